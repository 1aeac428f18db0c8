// The sweep surfaces as inline SVG for the HTML report, from the same layout as the sweep page
// (contract/sweep-grid): simplex and order-sensitivity heatmaps, best-of bars and the best-strategy
// map. Colours are attributes (no CSS needed); every text escaped; a missing cell is not drawn.
import {
  type Domain,
  gridDomain,
  type StrategyRow,
  type SurfaceGrid,
  sharesText,
  sizeName,
} from '../../contract/sweep-grid';
import type { BestOf } from '../../contract/sweep-surfaces';
import { esc } from './svg';

const VIRIDIS = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];
const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];
const FAMILY: Record<string, string> = {
  P: '#0072b2',
  M: '#e69f00',
  D: '#009e73',
  T: '#cc79a7',
  S: '#56b4e9',
  Q: '#d55e00',
};

function ramp(t: number, stops: readonly string[]): string {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const rgb = (h: string) => [1, 3, 5].map((k) => Number.parseInt(h.slice(k, k + 2), 16));
  const a = rgb(stops[i]!);
  const b = rgb(stops[i + 1]!);
  return `#${a
    .map((c, k) =>
      Math.round(c + (b[k]! - c) * f)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** the page's colours: yellow = best on the sequential ramp; blue = forward order better on the diverging one */
export function surfaceFill(v: number, g: SurfaceGrid, d: Domain, better: 'lower' | 'higher'): string {
  const t = d.max > d.min ? (v - d.min) / (d.max - d.min) : 0.5;
  if (g.scale === 'diverging') return ramp(t, better === 'lower' ? DIVERGING : [...DIVERGING].reverse());
  return ramp(t, better === 'lower' ? [...VIRIDIS].reverse() : VIRIDIS);
}

const ink = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16)) as [
    number,
    number,
    number,
  ];
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#111' : '#fff';
};
const short = (v: number) => {
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
};
const svg = (W: number, H: number, title: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" font-family="system-ui,sans-serif" font-size="11"><rect width="${W}" height="${H}" fill="#fff"/>${body}</svg>`;

export function gridSvg(g: SurfaceGrid, better: 'lower' | 'higher'): string {
  const CW = 56;
  const CH = 30;
  const L = 78;
  const T = 34;
  const W = L + g.cols.length * CW + 100;
  const H = T + g.rows.length * CH + 40;
  const d = gridDomain(g);
  const p = [`<text x="4" y="14" font-weight="600" font-size="12">${esc(g.title)}</text>`];
  if (g.rowAxis) p.push(`<text x="4" y="${T - 6}" fill="#555">${esc(g.rowAxis)} ↓</text>`);
  g.rows.forEach((r, i) => {
    p.push(`<text x="${L - 6}" y="${T + i * CH + CH / 2 + 4}" text-anchor="end">${esc(r)}</text>`);
  });
  g.cols.forEach((c, j) => {
    p.push(`<text x="${L + j * CW + CW / 2 - 1}" y="${T - 6}" text-anchor="middle">${esc(c)}</text>`);
  });
  for (const c of g.cells) {
    if (!d || !Number.isFinite(c.value)) continue;
    const fill = surfaceFill(c.value, g, d, better);
    const x = L + c.col * CW;
    const y = T + c.row * CH;
    p.push(
      `<g data-run="${c.runId ?? ''}"><title>${esc(`${c.title}${c.runId !== null ? ` — run #${c.runId}` : ''}`)}</title><rect x="${x}" y="${y}" width="${CW - 2}" height="${CH - 2}" rx="3" fill="${fill}"/><text x="${x + (CW - 2) / 2}" y="${y + CH / 2 + 3}" text-anchor="middle" font-size="10" fill="${ink(fill)}">${esc(short(c.value))}</text></g>`,
    );
  }
  p.push(
    `<text x="${L + (g.cols.length * CW) / 2}" y="${H - 20}" text-anchor="middle" fill="#555">${esc(g.colAxis)} →</text>`,
  );
  if (d) {
    const lx = W - 84;
    const lo = surfaceFill(d.min, g, d, better);
    const hi = surfaceFill(d.max, g, d, better);
    p.push(
      `<rect x="${lx}" y="${T}" width="12" height="12" fill="${hi}"/><text x="${lx + 16}" y="${T + 10}">${esc(short(d.max))}</text>`,
      `<rect x="${lx}" y="${T + 18}" width="12" height="12" fill="${lo}"/><text x="${lx + 16}" y="${T + 28}">${esc(short(d.min))}</text>`,
    );
  }
  return svg(W, H, g.title, p.join(''));
}

export function bestOfSvg(rows: readonly BestOf[], ratios: readonly number[], metric: string): string {
  const rowH = 22;
  const labelW = 250;
  const plotW = 320;
  const W = labelW + plotW + 80;
  const gap = 12;
  const H = 26 + rows.length * rowH + ratios.length * gap + 8;
  const max = Math.max(0, ...rows.map((r) => r.value));
  const min = Math.min(0, ...rows.map((r) => r.value));
  const x = (v: number) => labelW + ((v - min) / (max - min || 1)) * plotW;
  const color: Record<number, string> = { 1: '#6b7280', 2: '#2563eb', 3: '#9333ea' };
  const title = `Best of single / pair / triple · ${metric}`;
  const p = [`<text x="4" y="14" font-weight="600" font-size="12">${esc(title)}</text>`];
  let y = 26;
  for (const ratio of ratios) {
    rows
      .filter((r) => r.ratio === ratio)
      .forEach((r, i) => {
        const ry = y + i * rowH;
        if (i === 0) p.push(`<text x="4" y="${ry + 15}" font-weight="600">r ${ratio}</text>`);
        p.push(
          `<text x="${labelW - 6}" y="${ry + 15}" text-anchor="end">${esc(`${sizeName(r.size)} ${r.order} (${sharesText(r.contributions)})`)}</text>`,
          `<rect x="${x(Math.min(0, r.value)).toFixed(2)}" y="${ry + 3}" width="${Math.max(1, Math.abs(x(r.value) - x(0))).toFixed(2)}" height="${rowH - 7}" fill="${color[r.size] ?? '#444'}"><title>${esc(`run #${r.runId ?? '—'}: ${metric} ${r.value}`)}</title></rect>`,
          `<text x="${(Math.max(x(r.value), x(0)) + 4).toFixed(2)}" y="${ry + 15}">${esc(short(r.value))}</text>`,
        );
      });
    y += rows.filter((r) => r.ratio === ratio).length * rowH + gap;
  }
  return svg(W, H, title, p.join(''));
}

export function strategySvg(rows: readonly StrategyRow[], metric: string): string {
  const rowH = 34;
  const left = 70;
  const barW = 360;
  const W = left + barW + 290;
  const top = 30;
  const H = top + rows.length * rowH + 34;
  const title = `Best strategy per compression level · ${metric}`;
  const p = [`<text x="4" y="16" font-weight="600" font-size="12">${esc(title)}</text>`];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    let x = left;
    p.push(
      `<g data-ratio="${r.ratio}"><title>${esc(`ratio ${r.ratio}: ${r.order} ${metric} ${r.value} — run #${r.runId ?? '—'}`)}</title>`,
    );
    p.push(
      `<text x="${left - 8}" y="${y + rowH / 2 + 3}" text-anchor="end">r ${esc(String(r.ratio))}</text>`,
    );
    for (const s of r.segments) {
      const w = barW * s.share;
      p.push(
        `<rect x="${x.toFixed(2)}" y="${y + 4}" width="${Math.max(1, w - 1).toFixed(2)}" height="${rowH - 10}" fill="${FAMILY[s.family] ?? '#777'}"/>`,
      );
      if (w > 34)
        p.push(
          `<text x="${(x + w / 2).toFixed(2)}" y="${y + rowH / 2 + 3}" text-anchor="middle" fill="#fff" font-weight="600">${esc(`${s.family} ${Number(s.share.toFixed(4))}`)}</text>`,
        );
      x += w;
    }
    p.push(
      `<text x="${left + barW + 8}" y="${y + rowH / 2 + 3}">${esc(`${r.order} · ${metric} ${short(r.value)}`)}</text></g>`,
    );
  });
  const fams = [...new Set(rows.flatMap((r) => r.segments.map((s) => s.family)))];
  fams.forEach((f, k) => {
    p.push(
      `<rect x="${left + k * 60}" y="${H - 22}" width="10" height="10" fill="${FAMILY[f] ?? '#777'}"/><text x="${left + k * 60 + 14}" y="${H - 13}">${esc(f)}</text>`,
    );
  });
  p.push(
    `<text x="${left + barW + 8}" y="${H - 13}" fill="#555">bar: steps in execution order, width = share</text>`,
  );
  return svg(W, H, title, p.join(''));
}
