// The stored form of one quantized linear (no tfjs): what a Q step produces next to the dequantized
// f32 weights the forward pass uses, and what the GPTQ exporter packs. `Linear` kind 'quantized'
// (model/types.ts) carries it.
import { quantGroups } from './accounting';
import type { QuantizedMatrix } from './quantizer';

export interface QuantizedWeight {
  bits: 4 | 8;
  /** −1 = one group per output channel */
  groupSize: number;
  symmetric: boolean;
  actOrder: boolean;
  outFeatures: number;
  inFeatures: number;
  /** [out·in] row-major (HF layout), each in 0..2^bits − 1 */
  codes: Uint8Array;
  /** [G·out] group-major, every value exactly an f16 */
  scales: Float32Array;
  /** [G·out] group-major integer zero points in 0..2^bits − 1 */
  zeros: Int32Array;
  /** [in] group of each input column (not monotone with act-order) */
  gIdx: Int32Array;
}

export function quantizedWeight(
  m: QuantizedMatrix,
  o: {
    bits: 4 | 8;
    groupSize: number;
    symmetric: boolean;
    actOrder: boolean;
    outFeatures: number;
    inFeatures: number;
  },
): QuantizedWeight {
  return { ...o, codes: m.codes, scales: m.scales, zeros: Int32Array.from(m.zeros), gIdx: m.gIdx };
}

/** w = s·(q − z) from the stored form, f32 (exact: s is f16 and |q − z| < 2^8). */
export function dequantize(q: QuantizedWeight): Float32Array {
  const { outFeatures: rows, inFeatures: cols } = q;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) {
      const g = q.gIdx[j]! * rows + r;
      out[r * cols + j] = q.scales[g]! * (q.codes[r * cols + j]! - q.zeros[g]!);
    }
  return out;
}

/** Structural check of a stored form (names the field that is wrong), e.g. after reading one back. */
export function checkQuantizedWeight(q: QuantizedWeight): string | null {
  const G = quantGroups(q.inFeatures, q.groupSize);
  const n = q.outFeatures * q.inFeatures;
  const maxq = 2 ** q.bits - 1;
  if (q.bits !== 4 && q.bits !== 8) return `bits must be 4 or 8, got ${q.bits}`;
  if (q.codes.length !== n) return `codes has ${q.codes.length} entries, expected ${n}`;
  if (q.scales.length !== G * q.outFeatures)
    return `scales has ${q.scales.length} entries, expected ${G * q.outFeatures}`;
  if (q.zeros.length !== G * q.outFeatures)
    return `zeros has ${q.zeros.length} entries, expected ${G * q.outFeatures}`;
  if (q.gIdx.length !== q.inFeatures) return `gIdx has ${q.gIdx.length} entries, expected ${q.inFeatures}`;
  for (const c of q.codes) if (c > maxq) return `a code ${c} exceeds ${maxq}`;
  for (const z of q.zeros) if (z < 0 || z > maxq) return `a zero point ${z} is outside 0..${maxq}`;
  for (const g of q.gIdx) if (g < 0 || g >= G) return `a g_idx entry ${g} is outside 0..${G - 1}`;
  for (const s of q.scales)
    if (!(s > 0) || !Number.isFinite(s)) return `a scale ${s} is not a positive finite number`;
  return null;
}
