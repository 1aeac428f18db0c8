// Mask selection for slimming (METHODS §4.1), exact counts with a stable tie-break: the k lowest
// scores of a range, equal scores taken in index order (torch.sort(stable=True) for Wanda; the
// reference's `score <= thresh` for Magnitude/SparseGPT prunes one more than ⌊s·n⌋ plus every tie —
// here every mask has exactly the requested count).
import { nmOf, nmPruned, type SlimPattern } from './accounting';

/**
 * Sets mask[i] = 1 for the k lowest of score[start + j·stride], j < len (mask indexed like score).
 * Scores must be finite.
 */
export function markLowest(
  score: ArrayLike<number>,
  mask: Uint8Array,
  start: number,
  len: number,
  k: number,
  stride = 1,
): void {
  if (k <= 0) return;
  if (k >= len) {
    for (let j = 0; j < len; j++) mask[start + j * stride] = 1;
    return;
  }
  const tmp = new Float64Array(len);
  for (let j = 0; j < len; j++) tmp[j] = score[start + j * stride]!;
  tmp.sort();
  const t = tmp[k - 1]!;
  let below = 0;
  for (let j = 0; j < k; j++) if (tmp[j]! < t) below++;
  let ties = k - below;
  for (let j = 0; j < len; j++) {
    const i = start + j * stride;
    const v = score[i]!;
    if (v < t) mask[i] = 1;
    else if (v === t && ties > 0) {
      mask[i] = 1;
      ties--;
    }
  }
}

/** N:M mask of a [rows, cols] score matrix: per row, the N lowest of every M consecutive columns. */
export function markNM(
  score: ArrayLike<number>,
  mask: Uint8Array,
  rows: number,
  cols: number,
  pattern: SlimPattern,
  c0 = 0,
  c1 = cols,
): void {
  const nm = nmOf(pattern);
  if (!nm) throw new Error(`markNM: ${pattern} is not an N:M pattern`);
  for (let r = 0; r < rows; r++)
    for (let j = c0; j < c1; j += nm.m) {
      const len = Math.min(nm.m, c1 - j);
      markLowest(score, mask, r * cols + j, len, nmPruned(len, nm));
    }
}

/** Zero the masked entries of w in place; returns the count of masked entries. */
export function applyMask(w: Float32Array | Float64Array, mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < w.length; i++)
    if (mask[i]) {
      w[i] = 0;
      n++;
    }
  return n;
}

export function countZeros(w: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) n++;
  return n;
}
