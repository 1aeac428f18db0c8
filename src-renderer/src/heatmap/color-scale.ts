// Colour scales for the per-layer heatmaps: a perceptually ordered sequential ramp (viridis stops),
// a domain from the data that ignores missing values, and legend ticks.

export const VIRIDIS = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];

function hexToRgb(h: string): [number, number, number] {
  const n = Number.parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const toHex = (rgb: number[]) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;

/** Blue (negative) → near-white (0) → red (positive), for signed differences centred on 0 (ColorBrewer RdBu). */
export const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];

/** Colour at t ∈ [0, 1] (clamped) on the ramp, linearly interpolated between stops. */
export function rampColor(t: number, stops: readonly string[] = VIRIDIS): string {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = hexToRgb(stops[i]!);
  const b = hexToRgb(stops[i + 1]!);
  return toHex(a.map((c, k) => c + (b[k]! - c) * f));
}

export interface Domain {
  min: number;
  max: number;
}

/** Finite values' range; null when there are none. */
export function domainOf(values: Iterable<number | null | undefined>): Domain | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

/** Position of v in the domain (0..1); a degenerate domain maps everything to the middle. */
export function normalize(v: number, d: Domain): number {
  return d.max > d.min ? (v - d.min) / (d.max - d.min) : 0.5;
}

/** Fill for a cell; null for a missing value (drawn as a hatched "no data" cell). */
export function cellColor(v: number | null | undefined, d: Domain | null): string | null {
  if (v === null || v === undefined || !Number.isFinite(v) || !d) return null;
  return rampColor(normalize(v, d));
}

/** n evenly spaced legend ticks from min to max. */
export function legendTicks(d: Domain, n = 5): number[] {
  if (d.max === d.min) return [d.min];
  return Array.from({ length: n }, (_, i) => d.min + ((d.max - d.min) * i) / (n - 1));
}

/** Dark or light text for a readable label on a given fill. */
export function textOn(fill: string): string {
  const [r, g, b] = hexToRgb(fill);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#111' : '#fff';
}
