// Chart axes whose ticks read: nice round steps that enclose every value (the top tick is never
// below the largest value, so nothing is clipped), and labels with just enough digits that no two
// ticks print the same text (five "1.69M" ticks on a 1.690M–1.694M axis said nothing).

export type AxisKind = 'count' | 'bytes' | 'number';

const NICE = [1, 2, 2.5, 5, 10];

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  return (NICE.find((n) => n * p >= raw) ?? 10) * p;
}

/** 2..count+1 ticks on a round step, from ≤ min to ≥ max of the finite values ([] for none). */
export function niceTicks(values: readonly number[], count = 5): number[] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return [];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / Math.max(1, count - 1));
  const start = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  // rounding to the step's precision keeps 0.30000000000000004 out of the labels
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  for (let t = start; t < hi + step * 1e-9; t += step) ticks.push(Number(t.toFixed(decimals)));
  if (ticks[ticks.length - 1]! < hi) ticks.push(Number((ticks[ticks.length - 1]! + step).toFixed(decimals)));
  return ticks;
}

const COUNT_UNITS: [number, string][] = [
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
  [1, ''],
];
const BYTE_UNITS: [number, string][] = [
  [2 ** 40, ' TiB'],
  [2 ** 30, ' GiB'],
  [2 ** 20, ' MiB'],
  [2 ** 10, ' KiB'],
  [1, ' B'],
];

/** One formatter for all ticks of an axis: one scale, the fewest decimals that keep labels distinct. */
export function tickFormatter(ticks: readonly number[], kind: AxisKind): (v: number) => string {
  const top = Math.max(0, ...ticks.map((t) => Math.abs(t)));
  const units =
    kind === 'count' ? COUNT_UNITS : kind === 'bytes' ? BYTE_UNITS : [[1, ''] as [number, string]];
  const [scale, suffix] = units.find(([s]) => top >= s) ?? units[units.length - 1]!;
  for (let digits = 0; digits <= 6; digits++) {
    const f = (v: number) => `${(v / scale).toFixed(digits)}${suffix}`;
    if (new Set(ticks.map(f)).size === ticks.length) return f;
  }
  return (v: number) => `${v / scale}${suffix}`;
}
