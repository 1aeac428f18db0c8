// Static half of the semi-dynamic structured pruning of the base (METHODS §3.5, paper version).
// Unit: intermediate channel j (column j of W_b2 = row j of W_b1, W_b3). Wanda-structured score
// C_j = ‖W_b2[:, j]‖₂ · ‖X[j, :]‖₂ with X the input activations of W_b2 over the calibration tokens.
// DECISION: X[j, :] is taken from the *original* experts' intermediates act(W_e1 x) ⊙ (W_e3 x) over
// every routed (token, expert) pair of the layer — ‖X[j,:]‖² = Σ_e G_e[j, j], read off the down
// projections' Grams the step collects anyway; the compressed experts' intermediates approximate
// these (their deltas are fitted to them) and the pass stays single-sweep.
// The lowest-scoring `remove` channels are removed; ties keep the lower index.
import type { InputStatistics } from '../../calibration/gram';

/** C_j for a base down projection W_b2 [h, I] (row-major) and the experts' intermediate statistics. */
export function channelScores(
  baseDown: Float32Array,
  h: number,
  I: number,
  intermediates: readonly (InputStatistics | undefined)[],
): Float64Array {
  const w2 = new Float64Array(I);
  for (let i = 0; i < h; i++) for (let j = 0; j < I; j++) w2[j] += baseDown[i * I + j]! ** 2;
  const x2 = new Float64Array(I);
  for (const s of intermediates) {
    if (!s || s.tokens === 0) continue;
    for (let j = 0; j < I; j++) x2[j] += s.gram.data[j * I + j]!;
  }
  return Float64Array.from({ length: I }, (_, j) => Math.sqrt(w2[j]!) * Math.sqrt(x2[j]!));
}

/** Kept channel indices (ascending) after removing the `remove` lowest scores. */
export function keptChannels(scores: Float64Array, remove: number): Int32Array {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || b - a);
  const drop = new Set(order.slice(0, remove));
  return Int32Array.from(Array.from(scores.keys()).filter((j) => !drop.has(j)));
}

/** Rows `keep` of a row-major [rows, cols] matrix. */
export function takeRows(data: Float32Array, cols: number, keep: Int32Array): Float32Array {
  const out = new Float32Array(keep.length * cols);
  keep.forEach((r, i) => {
    out.set(data.subarray(r * cols, (r + 1) * cols), i * cols);
  });
  return out;
}

/** Columns `keep` of a row-major [rows, cols] matrix. */
export function takeCols(data: Float32Array, rows: number, cols: number, keep: Int32Array): Float32Array {
  const k = keep.length;
  const out = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = data[i * cols + keep[j]!]!;
  return out;
}
