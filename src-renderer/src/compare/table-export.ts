// A comparison as a plain table, written out as CSV (RFC 4180 quoting) or GitHub Markdown.

export type Cell = string | number | null | undefined;

export interface ExportTable {
  columns: string[];
  rows: Cell[][];
}

const cellText = (c: Cell): string =>
  c === null || c === undefined ? '' : typeof c === 'number' ? (Number.isFinite(c) ? String(c) : '') : c;

function csvField(c: Cell): string {
  const s = cellText(c);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: ExportTable): string {
  return `${[t.columns, ...t.rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function mdField(c: Cell): string {
  return cellText(c).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function toMarkdown(t: ExportTable, title?: string): string {
  const head = `| ${t.columns.map(mdField).join(' | ')} |`;
  const rule = `| ${t.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = t.rows.map((r) => `| ${t.columns.map((_, i) => mdField(r[i])).join(' | ')} |`);
  return `${title ? `## ${title}\n\n` : ''}${[head, rule, ...body].join('\n')}\n`;
}

/** Saves text as a file through a blob URL (works in browsers and in the Electron shell). */
export function downloadText(filename: string, text: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
