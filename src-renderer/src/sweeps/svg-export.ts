// A drawn surface as a file: the SVG element serialized as a standalone document (the charts carry
// their colours and fonts as attributes, so the file looks like the page), and a PNG rasterized from
// that document on a canvas. All in the renderer: nothing goes through the main process.
import { downloadText } from '../compare/table-export';

const XMLNS = 'http://www.w3.org/2000/svg';

/** A standalone SVG document of the element (namespace and size set; links kept as plain text). */
export function svgDocument(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', XMLNS);
  copy.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  if (!copy.getAttribute('width')) copy.setAttribute('width', String(svg.clientWidth));
  if (!copy.getAttribute('height')) copy.setAttribute('height', String(svg.clientHeight));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
}

/** File names from a surface id: letters, digits, dot, dash and underscore only. */
export const exportName = (id: string, ext: string) => `${id.replace(/[^\w.-]+/g, '_')}.${ext}`;

export function downloadSvg(svg: SVGSVGElement, name: string): void {
  downloadText(exportName(name, 'svg'), svgDocument(svg), 'image/svg+xml');
}

/** PNG at `scale`× the drawn size, on a white background (the SVG's own background rect). */
export async function svgToPngBlob(svg: SVGSVGElement, scale = 2): Promise<Blob> {
  const w = Number(svg.getAttribute('width')) || svg.clientWidth;
  const h = Number(svg.getAttribute('height')) || svg.clientHeight;
  // a data: URL, not a blob: one — the window's CSP allows images from 'self' and data: only
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgDocument(svg))}`;
  const img = new Image();
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('the chart could not be rasterized'));
    img.src = url;
  });
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  const g = canvas.getContext('2d');
  if (!g) throw new Error('no 2-D canvas in this window');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  return await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'),
  );
}

export async function downloadPng(svg: SVGSVGElement, name: string): Promise<void> {
  const blob = await svgToPngBlob(svg);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = exportName(name, 'png');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
