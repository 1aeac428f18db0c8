// Uniform min-max weight quantizer (AutoGPTQ quantizer.py, per output channel of a column range) and
// round-to-nearest, pure arithmetic, no tfjs.
//
//   xmin = min(0, min w), xmax = max(0, max w); symmetric: xmax = max(|xmin|, xmax), xmin = −xmax;
//   both 0 → [−1, 1]; scale = (xmax − xmin)/maxq; zero = (maxq+1)/2 (symmetric) or round(−xmin/scale);
//   q = clamp(round(w/scale) + zero, 0, maxq); ŵ = scale·(q − zero). round = half to even (torch.round).
//
// Decisions: (1) the scale is rounded *up* to an f16 value before the zero point and the codes are
// computed — the export stores f16 scales (AutoGPTQ casts after quantizing, so its kernels see a
// slightly different grid than its calibration did); rounding up keeps the range covered, so
// |w − ŵ| ≤ scale/2 holds for every w of the group, and ŵ = f16·int is exact in f32: the forward pass
// uses exactly the weights the export stores. (2) Symmetric with no negative weight in the range: the
// reference keeps xmin = 0 with zero at mid-range, clipping half the range; here xmin = −xmax always.

const F16_MIN_NORMAL = 2 ** -14;
const F16_SUBNORMAL_STEP = 2 ** -24;
export const F16_MAX = 65504;

/** The smallest f16 value ≥ x, for x > 0. */
export function f16Ceil(x: number): number {
  if (!(x > 0)) throw new RangeError(`f16Ceil: ${x} is not positive`);
  if (x > F16_MAX) throw new RangeError(`f16Ceil: ${x} exceeds the f16 range`);
  if (x < F16_MIN_NORMAL) return Math.max(1, Math.ceil(x / F16_SUBNORMAL_STEP)) * F16_SUBNORMAL_STEP;
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e--;
  else if (2 ** (e + 1) <= x) e++;
  const ulp = 2 ** (e - 10);
  return Math.ceil(x / ulp) * ulp;
}

/** IEEE half bits of an exactly representable non-negative f16 value. */
export function f16Bits(v: number): number {
  if (v === 0) return 0;
  if (!(v > 0) || v > F16_MAX) throw new RangeError(`f16Bits: ${v} is not a positive f16 value`);
  if (v < F16_MIN_NORMAL) {
    const m = v / F16_SUBNORMAL_STEP;
    if (!Number.isInteger(m)) throw new RangeError(`f16Bits: ${v} is not an f16 value`);
    return m;
  }
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  const m = (v / 2 ** e - 1) * 1024;
  if (!Number.isInteger(m)) throw new RangeError(`f16Bits: ${v} is not an f16 value`);
  return ((e + 15) << 10) | m;
}

/** Value of IEEE half bits (sign, exponent, mantissa; Inf/NaN included). */
export function f16Value(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return s * m * F16_SUBNORMAL_STEP;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** torch.round: to nearest, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QuantGrid {
  bits: number;
  maxq: number;
  symmetric: boolean;
}

export const quantGrid = (bits: number, symmetric: boolean): QuantGrid => ({
  bits,
  maxq: 2 ** bits - 1,
  symmetric,
});

/**
 * Per-row scale and zero of columns [c0, c1) of W [rows, cols] (f32 or f64 row-major), written to
 * scale[r]/zero[r]. `src` may be a block snapshot with its own column offset and stride.
 */
export function findParams(
  W: ArrayLike<number>,
  rows: number,
  stride: number,
  c0: number,
  c1: number,
  g: QuantGrid,
  scale: Float64Array,
  zero: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    let xmin = 0;
    let xmax = 0;
    const rr = r * stride;
    for (let j = c0; j < c1; j++) {
      const v = W[rr + j]!;
      if (v < xmin) xmin = v;
      if (v > xmax) xmax = v;
    }
    if (g.symmetric) {
      xmax = Math.max(-xmin, xmax);
      xmin = -xmax;
    }
    if (xmin === 0 && xmax === 0) {
      xmin = -1;
      xmax = 1;
    }
    const s = f16Ceil((xmax - xmin) / g.maxq);
    scale[r] = s;
    zero[r] = g.symmetric ? (g.maxq + 1) / 2 : Math.min(g.maxq, Math.max(0, roundHalfEven(-xmin / s)));
  }
}

/** Integer code of w on the grid (scale s, zero z). */
export function quantCode(w: number, s: number, z: number, maxq: number): number {
  const q = roundHalfEven(w / s) + z;
  return q < 0 ? 0 : q > maxq ? maxq : q;
}

export interface QuantizedMatrix {
  /** dequantized weights ŵ = s·(q − z), [rows, cols], exact f32 */
  w: Float32Array;
  /** codes [rows, cols] in [0, maxq] (original column order) */
  codes: Uint8Array;
  /** [G, rows] scales (f16 values) and zero points */
  scales: Float32Array;
  zeros: Uint8Array;
  /** [cols] group of each column */
  gIdx: Int32Array;
}

/** Round-to-nearest with groups of `groupSize` consecutive columns (−1 = per output channel). */
export function rtnQuantize(
  W: Float32Array,
  rows: number,
  cols: number,
  g: QuantGrid,
  groupSize: number,
): QuantizedMatrix {
  const gs = groupSize === -1 ? cols : groupSize;
  const G = Math.ceil(cols / gs);
  const out: QuantizedMatrix = {
    w: new Float32Array(rows * cols),
    codes: new Uint8Array(rows * cols),
    scales: new Float32Array(G * rows),
    zeros: new Uint8Array(G * rows),
    gIdx: new Int32Array(cols),
  };
  const s = new Float64Array(rows);
  const z = new Float64Array(rows);
  for (let gi = 0; gi < G; gi++) {
    const c0 = gi * gs;
    const c1 = Math.min(cols, c0 + gs);
    findParams(W, rows, cols, c0, c1, g, s, z);
    for (let r = 0; r < rows; r++) {
      out.scales[gi * rows + r] = s[r]!;
      out.zeros[gi * rows + r] = z[r]!;
      for (let j = c0; j < c1; j++) {
        const q = quantCode(W[r * cols + j]!, s[r]!, z[r]!, g.maxq);
        out.codes[r * cols + j] = q;
        out.w[r * cols + j] = s[r]! * (q - z[r]!);
      }
    }
    for (let j = c0; j < c1; j++) out.gIdx[j] = gi;
  }
  return out;
}
