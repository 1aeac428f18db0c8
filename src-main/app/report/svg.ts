// Inline SVG charts for the HTML report (no scripts, no fonts or images fetched): horizontal bars,
// lines over an integer or numeric x axis, and a heatmap. Every text is escaped; every number
// placed is finite (a missing value is left out, not drawn at 0).

export function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
export const seriesColor = (i: number) => PALETTE[i % PALETTE.length]!;

const f = (x: number) => (Math.round(x * 100) / 100).toString();

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

function niceRange(lo: number, hi: number): [number, number] {
  if (lo === hi) return lo === 0 ? [0, 1] : [Math.min(0, lo), Math.max(0, hi)];
  return [lo, hi];
}

export interface Bar {
  label: string;
  value: number | null;
}

/** Horizontal bars from 0 (negative values to the left), value printed at the end of each bar. */
export function barChart(title: string, bars: readonly Bar[], format: (v: number) => string): string {
  const rowH = 22;
  const W = 520;
  const labelW = 170;
  const valueW = 90;
  const plotW = W - labelW - valueW;
  const H = 30 + bars.length * rowH + 8;
  const vals = bars.map((b) => b.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const [lo, hi] = niceRange(Math.min(0, ...vals), Math.max(0, ...vals));
  const x = (v: number) => labelW + ((v - lo) / (hi - lo)) * plotW;
  const parts = [`<text x="4" y="16" class="t">${esc(title)}</text>`];
  bars.forEach((b, i) => {
    const y = 28 + i * rowH;
    parts.push(`<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text>`);
    if (b.value === null || !Number.isFinite(b.value)) {
      parts.push(`<text x="${labelW + 4}" y="${y + 14}" class="m">—</text>`);
      return;
    }
    const x0 = x(Math.min(0, b.value));
    const w = Math.max(1, Math.abs(x(b.value) - x(0)));
    parts.push(
      `<rect x="${f(x0)}" y="${y + 3}" width="${f(w)}" height="${rowH - 7}" fill="${seriesColor(i)}"/>`,
      `<text x="${f(Math.max(x(b.value), x(0)) + 4)}" y="${y + 14}">${esc(format(b.value))}</text>`,
    );
  });
  parts.push(`<line x1="${f(x(0))}" y1="26" x2="${f(x(0))}" y2="${H - 6}" class="ax"/>`);
  return svg(W, H, title, parts);
}

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

/** Lines with markers; x and y axes with min/max ticks and a legend. */
export function lineChart(title: string, series: readonly Series[], axes: { x: string; y: string }): string {
  const W = 520;
  const H = 260;
  const m = { l: 64, r: 12, t: 28, b: 44 };
  const pts = series.flatMap((s) => s.points).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (pts.length === 0)
    return svg(W, 60, title, [
      `<text x="4" y="16" class="t">${esc(title)}</text>`,
      '<text x="4" y="40" class="m">no values</text>',
    ]);
  const [x0, x1] = niceRange(Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0])));
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (y0 === y1) [y0, y1] = y0 === 0 ? [0, 1] : [y0 - Math.abs(y0) * 0.1, y1 + Math.abs(y1) * 0.1];
  const sx = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts = [
    `<text x="4" y="16" class="t">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" class="ax"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" class="ax"/>`,
    `<text x="${m.l}" y="${H - m.b + 14}" text-anchor="middle">${esc(tickLabel(x0))}</text>`,
    `<text x="${W - m.r}" y="${H - m.b + 14}" text-anchor="end">${esc(tickLabel(x1))}</text>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - m.b + 14}" text-anchor="middle" class="m">${esc(axes.x)}</text>`,
    `<text x="${m.l - 4}" y="${H - m.b}" text-anchor="end">${esc(tickLabel(y0))}</text>`,
    `<text x="${m.l - 4}" y="${m.t + 8}" text-anchor="end">${esc(tickLabel(y1))}</text>`,
    `<text x="12" y="${(m.t + H - m.b) / 2}" transform="rotate(-90 12 ${(m.t + H - m.b) / 2})" text-anchor="middle" class="m">${esc(axes.y)}</text>`,
  ];
  series.forEach((s, i) => {
    const ok = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (ok.length === 0) return;
    const c = seriesColor(i);
    parts.push(
      `<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${ok.map(([a, b]) => `${f(sx(a))},${f(sy(b))}`).join(' ')}"/>`,
      ...ok.map(([a, b]) => `<circle cx="${f(sx(a))}" cy="${f(sy(b))}" r="2.5" fill="${c}"/>`),
    );
    const lx = m.l + (i % 3) * 150;
    const ly = H - 12 + Math.floor(i / 3) * 0;
    parts.push(
      `<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${c}"/>`,
      `<text x="${lx + 14}" y="${ly + 1}">${esc(s.name.length > 22 ? `${s.name.slice(0, 21)}…` : s.name)}</text>`,
    );
  });
  return svg(W, H, title, parts);
}

/** Matrix as coloured cells (white → blue over [min, max]); row and column labels. */
export function heatmap(
  title: string,
  matrix: readonly (readonly number[])[],
  labels: { rows: readonly string[]; cols: readonly string[]; range?: [number, number] },
): string {
  const cols = labels.cols.length;
  const cell = Math.max(6, Math.min(22, Math.floor(420 / Math.max(1, cols))));
  const l = 60;
  const t = 30;
  const W = l + cols * cell + 70;
  const H = t + matrix.length * cell + 24;
  const vals = matrix.flat().filter(Number.isFinite);
  const [lo, hi] = labels.range ?? [Math.min(...vals), Math.max(...vals)];
  const span = hi - lo || 1;
  const color = (v: number) => {
    const a = Math.max(0, Math.min(1, (v - lo) / span));
    const mix = (from: number, to: number) => Math.round(from + (to - from) * a);
    return `rgb(${mix(255, 30)},${mix(255, 64)},${mix(255, 175)})`;
  };
  const parts = [`<text x="4" y="16" class="t">${esc(title)}</text>`];
  matrix.forEach((row, i) => {
    parts.push(
      `<text x="${l - 4}" y="${t + i * cell + cell * 0.7}" text-anchor="end">${esc(labels.rows[i] ?? '')}</text>`,
    );
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) return;
      parts.push(
        `<rect x="${l + j * cell}" y="${t + i * cell}" width="${cell}" height="${cell}" fill="${color(v)}"><title>${esc(`${labels.rows[i]} × ${labels.cols[j]}: ${tickLabel(v)}`)}</title></rect>`,
      );
    });
  });
  const every = Math.ceil(cols / 16);
  labels.cols.forEach((c, j) => {
    if (j % every === 0)
      parts.push(
        `<text x="${l + j * cell + cell / 2}" y="${t + matrix.length * cell + 14}" text-anchor="middle">${esc(c)}</text>`,
      );
  });
  const lx = l + cols * cell + 10;
  parts.push(
    `<rect x="${lx}" y="${t}" width="12" height="12" fill="${color(hi)}"/><text x="${lx + 16}" y="${t + 10}">${esc(tickLabel(hi))}</text>`,
    `<rect x="${lx}" y="${t + 18}" width="12" height="12" fill="${color(lo)}" stroke="#ccc"/><text x="${lx + 16}" y="${t + 28}">${esc(tickLabel(lo))}</text>`,
  );
  return svg(W, H, title, parts);
}

function svg(W: number, H: number, title: string, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}
