// The sweep surfaces laid out for drawing and export: each surface as a grid of cells (rows ×
// columns, every cell a stored run) or as rows (best of / best strategy), with the colour domain and
// the full-precision table each one exports. One layout for the sweep page and the reports, so the
// CSV of a chart and the chart in the HTML report show the same numbers in the same places.
import type { BestOf, SweepSurfaces } from './sweep-surfaces';

const FAMILY_RANK = ['P', 'M', 'D', 'T', 'S', 'Q'];
const rank = (f: string) => {
  const i = FAMILY_RANK.indexOf(f);
  return i < 0 ? FAMILY_RANK.length : i;
};
const byRank = (a: string, b: string) => rank(a) - rank(b) || a.localeCompare(b);
const familiesOf = (order: string) => order.split('→').sort(byRank);
const orderCompare = (a: string, b: string) => {
  const x = a.split('→').map(rank);
  const y = b.split('→').map(rank);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};
/** share values as row/column labels: shortest exact form (0.25, 0.1) */
const shareLabel = (v: number) => String(Number(v.toFixed(9)));

/** Metrics where larger is better; every other metric (perplexity first) is better when lower. */
const HIGHER_IS_BETTER = new Set([
  'acc',
  'accNorm',
  'accAvg',
  'tokensPerSecond',
  'prefillTokensPerSecond',
  'decodeTokensPerSecond',
]);
export const betterOf = (metric: string): 'lower' | 'higher' =>
  HIGHER_IS_BETTER.has(metric.split('@')[0]!) ? 'higher' : 'lower';

/** The metric names present in succeeded points, perplexity first. */
export function sweepMetrics(
  points: readonly { status: string; metrics: Record<string, number> }[],
): string[] {
  const names = new Set<string>();
  for (const p of points)
    if (p.status === 'succeeded')
      for (const [k, v] of Object.entries(p.metrics)) if (Number.isFinite(v)) names.add(k);
  return [...names].sort((a, b) => (a === 'ppl' ? -1 : b === 'ppl' ? 1 : a.localeCompare(b)));
}

export type CsvValue = string | number | null;

export interface GridCell {
  row: number;
  col: number;
  value: number;
  /** the run the cell links to */
  runId: number | null;
  /** order sensitivity: the reversed order's run */
  otherRunId: number | null;
  title: string;
  /** the fields that define the cell and its value, in export column order */
  fields: Record<string, CsvValue>;
}

export interface SurfaceGrid {
  /** stable and file-name safe, e.g. simplex-r0.2-P-D */
  id: string;
  title: string;
  kind: 'simplex-single' | 'simplex-pair' | 'simplex-triple' | 'order-sensitivity';
  rowAxis: string;
  colAxis: string;
  rows: string[];
  cols: string[];
  cells: GridCell[];
  /** sequential: lower/higher values on a ramp; diverging: centred on 0 (order sensitivity) */
  scale: 'sequential' | 'diverging';
  note: string;
}

export interface Domain {
  min: number;
  max: number;
}

/** The colour domain of a grid: the values' range, or ±max|v| around 0 for a diverging grid. */
export function gridDomain(g: SurfaceGrid): Domain | null {
  const vs = g.cells.map((c) => c.value).filter(Number.isFinite);
  if (vs.length === 0) return null;
  if (g.scale === 'diverging') {
    const m = Math.max(...vs.map(Math.abs));
    return { min: -m, max: m };
  }
  return { min: Math.min(...vs), max: Math.max(...vs) };
}

const idOf = (...parts: string[]) =>
  parts
    .join('-')
    .replace(/→/g, '-')
    .replace(/[^\w.-]+/g, '_');

/**
 * Per total ratio, the value over the contribution simplex: singles as one row; each pair of
 * families as order × share of the first family (its partner takes the rest); each triple order as a
 * triangle over (c_A, c_B) with c_C = 1 − c_A − c_B (rows: c_A from high to low; cells outside the
 * simplex do not exist).
 */
export function simplexGrids(s: SweepSurfaces, ratio: number): SurfaceGrid[] {
  const cells = s.simplex[String(ratio)] ?? [];
  const out: SurfaceGrid[] = [];
  const r = `ratio ${ratio}`;
  const singles = cells.filter((c) => !c.order.includes('→')).sort((a, b) => orderCompare(a.order, b.order));
  if (singles.length) {
    const cols = [...new Set(singles.map((c) => c.order))];
    out.push({
      id: idOf('simplex', `r${ratio}`, 'single'),
      title: `Single methods · ${r}`,
      kind: 'simplex-single',
      rowAxis: '',
      colAxis: 'method',
      rows: [s.metric],
      cols,
      cells: singles.map((c) => ({
        row: 0,
        col: cols.indexOf(c.order),
        value: c.value,
        runId: c.runId,
        otherRunId: null,
        title: `${c.order} at ${r}: ${s.metric} ${c.value}`,
        fields: { ratio, order: c.order, [s.metric]: c.value, run: c.runId },
      })),
      scale: 'sequential',
      note: '',
    });
  }
  const groups = new Map<string, typeof cells>();
  for (const c of cells) {
    const n = c.order.split('→').length;
    if (n < 2 || n > 3) continue;
    // pairs share one grid per family set (both orders); each triple order is its own triangle
    const key = n === 2 ? familiesOf(c.order).join(',') : c.order;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const keys = [...groups.keys()].sort(
    (a, b) =>
      a.split(/[,→]/).length - b.split(/[,→]/).length ||
      orderCompare(a.replace(/,/g, '→'), b.replace(/,/g, '→')),
  );
  for (const key of keys) {
    const g = groups.get(key)!;
    const fams = familiesOf(g[0]!.order);
    const share = (c: (typeof g)[number], f: string) => c.contributions[f] ?? 0;
    const shareFields = (c: (typeof g)[number]) =>
      Object.fromEntries(fams.map((f) => [`c_${f}`, share(c, f)]));
    if (fams.length === 2) {
      const [a, b] = fams as [string, string];
      const rows = [...new Set(g.map((c) => c.order))].sort(orderCompare);
      const colVals = [...new Set(g.map((c) => share(c, a)))].sort((x, y) => x - y);
      out.push({
        id: idOf('simplex', `r${ratio}`, a, b),
        title: `${a} + ${b} · ${r}`,
        kind: 'simplex-pair',
        rowAxis: 'order',
        colAxis: `c_${a} (c_${b} = 1 − c_${a})`,
        rows,
        cols: colVals.map(shareLabel),
        cells: g.map((c) => ({
          row: rows.indexOf(c.order),
          col: colVals.indexOf(share(c, a)),
          value: c.value,
          runId: c.runId,
          otherRunId: null,
          title: `${c.order}, c_${a} ${shareLabel(share(c, a))}, c_${b} ${shareLabel(share(c, b))} at ${r}: ${s.metric} ${c.value}`,
          fields: { ratio, order: c.order, ...shareFields(c), [s.metric]: c.value, run: c.runId },
        })),
        scale: 'sequential',
        note: '',
      });
    } else {
      const [a, b, rest] = fams as [string, string, string];
      const rowVals = [...new Set(g.map((c) => share(c, a)))].sort((x, y) => y - x);
      const colVals = [...new Set(g.map((c) => share(c, b)))].sort((x, y) => x - y);
      out.push({
        id: idOf('simplex', `r${ratio}`, key),
        title: `${key} · ${r}`,
        kind: 'simplex-triple',
        rowAxis: `c_${a}`,
        colAxis: `c_${b}`,
        rows: rowVals.map(shareLabel),
        cols: colVals.map(shareLabel),
        cells: g.map((c) => ({
          row: rowVals.indexOf(share(c, a)),
          col: colVals.indexOf(share(c, b)),
          value: c.value,
          runId: c.runId,
          otherRunId: null,
          title: `${c.order}, ${fams.map((f) => `c_${f} ${shareLabel(share(c, f))}`).join(', ')} at ${r}: ${s.metric} ${c.value}`,
          fields: { ratio, order: c.order, ...shareFields(c), [s.metric]: c.value, run: c.runId },
        })),
        scale: 'sequential',
        note: `c_${rest} = 1 − c_${a} − c_${b}; only cells inside the simplex exist`,
      });
    }
  }
  return out;
}

/**
 * Order sensitivity per pair of families: ratio × share of the first family, value = metric(A→B) −
 * metric(B→A) at the same shares. For a lower-is-better metric a negative cell means A→B is better.
 */
export function orderSensitivityGrids(s: SweepSurfaces, better: 'lower' | 'higher' = 'lower'): SurfaceGrid[] {
  const groups = new Map<string, SweepSurfaces['orderSensitivity']>();
  for (const p of s.orderSensitivity) groups.set(p.forward, [...(groups.get(p.forward) ?? []), p]);
  return [...groups.keys()].sort(orderCompare).map((forward) => {
    const g = groups.get(forward)!;
    const backward = g[0]!.backward;
    const [a, b] = familiesOf(forward) as [string, string];
    const rowVals = [...new Set(g.map((p) => p.ratio))].sort((x, y) => x - y);
    const colVals = [...new Set(g.map((p) => p.contributions[a] ?? 0))].sort((x, y) => x - y);
    const wins = better === 'lower' ? 'negative' : 'positive';
    return {
      id: idOf('order', forward),
      title: `${forward} − ${backward}`,
      kind: 'order-sensitivity' as const,
      rowAxis: 'ratio',
      colAxis: `c_${a} (c_${b} = 1 − c_${a})`,
      rows: rowVals.map(String),
      cols: colVals.map(shareLabel),
      cells: g.map((p) => ({
        row: rowVals.indexOf(p.ratio),
        col: colVals.indexOf(p.contributions[a] ?? 0),
        value: p.delta,
        runId: p.forwardRunId,
        otherRunId: p.backwardRunId,
        title: `ratio ${p.ratio}, c_${a} ${shareLabel(p.contributions[a] ?? 0)}: ${forward} ${p.forwardValue} − ${backward} ${p.backwardValue} = ${p.delta}`,
        fields: {
          ratio: p.ratio,
          forward,
          backward,
          [`c_${a}`]: p.contributions[a] ?? 0,
          [`c_${b}`]: p.contributions[b] ?? 0,
          [`${s.metric}_forward`]: p.forwardValue,
          [`${s.metric}_backward`]: p.backwardValue,
          delta: p.delta,
          run_forward: p.forwardRunId,
          run_backward: p.backwardRunId,
        },
      })),
      scale: 'diverging' as const,
      note: `${s.metric}(${forward}) − ${s.metric}(${backward}) at the same shares: ${wins} means ${forward} is better, 0 means the order does not matter`,
    };
  });
}

export interface StrategySegment {
  family: string;
  share: number;
}

export interface StrategyRow extends BestOf {
  /** the winning pipeline's steps in execution order, each with its share of the ratio */
  segments: StrategySegment[];
}

/** The best strategy per compression level (the reference's Figure 8): order and shares per ratio. */
export function strategyRows(s: SweepSurfaces): StrategyRow[] {
  return s.bestStrategy.map((b) => ({
    ...b,
    segments: b.order
      .split('→')
      .map((f) => ({ family: f, share: b.contributions[f] ?? (b.size === 1 ? 1 : 0) })),
  }));
}

const SIZE_NAME: Record<number, string> = { 1: 'single', 2: 'pair', 3: 'triple' };
export const sizeName = (n: number) => SIZE_NAME[n] ?? `${n} methods`;

const sharesText = (c: Record<string, number>) =>
  Object.keys(c)
    .sort(byRank)
    .map((f) => `${f} ${shareLabel(c[f]!)}`)
    .join(', ');

export { sharesText };

export interface ExportTable {
  columns: string[];
  rows: CsvValue[][];
}

/** Records as one table; columns are the union of their keys in first-seen order. */
export function recordsTable(records: readonly Record<string, CsvValue>[]): ExportTable {
  const columns: string[] = [];
  for (const r of records) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  return { columns, rows: records.map((r) => columns.map((c) => r[c] ?? null)) };
}

export const gridTable = (g: SurfaceGrid): ExportTable => recordsTable(g.cells.map((c) => c.fields));

const bestRecord = (metric: string, b: BestOf): Record<string, CsvValue> => ({
  ratio: b.ratio,
  size: b.size,
  order: b.order,
  ...Object.fromEntries(
    Object.keys(b.contributions)
      .sort(byRank)
      .map((f) => [`c_${f}`, b.contributions[f]!]),
  ),
  [metric]: b.value,
  run: b.runId,
});
export const bestOfTable = (s: SweepSurfaces): ExportTable =>
  recordsTable(s.bestOf.map((b) => bestRecord(s.metric, b)));
export const strategyTable = (s: SweepSurfaces): ExportTable =>
  recordsTable(s.bestStrategy.map((b) => bestRecord(s.metric, b)));

/** RFC 4180 text; numbers in their shortest round-trip form (full precision), missing as empty. */
export function tableCsv(t: ExportTable): string {
  const field = (v: CsvValue) => {
    const s = v === null ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[t.columns, ...t.rows].map((r) => r.map(field).join(',')).join('\r\n')}\r\n`;
}
