// Additive attention mask for a block of queries [q0, q1) against keys [k0, k1): 0 where key j is
// visible from query i (j <= i, and i - j < window when a sliding window is set), -inf elsewhere.

import { tf } from '../../tensor/backend';

export function causalMask(
  q0: number,
  q1: number,
  k0: number,
  k1: number,
  window: number | null,
  repeat = 1,
): tf.Tensor2D {
  const nq = q1 - q0;
  const nk = k1 - k0;
  const m = new Float32Array(repeat * nq * nk);
  for (let i = 0; i < nq; i++) {
    const qi = q0 + i;
    for (let j = 0; j < nk; j++) {
      const kj = k0 + j;
      if (kj > qi || (window !== null && qi - kj >= window)) m[i * nk + j] = Number.NEGATIVE_INFINITY;
    }
  }
  // `repeat` stacks the block for several query heads sharing these keys (rows head-major).
  for (let r = 1; r < repeat; r++) m.copyWithin(r * nq * nk, 0, nq * nk);
  return tf.tensor2d(m, [repeat * nq, nk]);
}

/** First key any query in [q0, q1) can see. */
export function firstVisibleKey(q0: number, window: number | null): number {
  return window === null ? 0 : Math.max(0, q0 - window + 1);
}
