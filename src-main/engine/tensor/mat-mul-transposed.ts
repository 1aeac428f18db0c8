// Products with a transposed operand. tfjs-backend-wasm 4.22 runs matMul with a transpose flag far off
// its GEMM (measured here: YᵀY at 2048×419 1.6 vs 31 GFLOP/s, X·Wᵀ at 256×2048×1024 1.7 vs 35), so the
// transpose is materialised first and the product runs without flags. Every engine product with a
// transposed operand goes through here.
import { tf } from './backend';

function transposed<T extends tf.Tensor>(x: T): T {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(x, perm) as T;
}

/** op(a)·op(b) for 2-D (or batched 3-D) tensors, op = transpose of the last two axes when asked. */
export function matMulT<T extends tf.Tensor>(a: T, b: tf.Tensor, transA: boolean, transB: boolean): T {
  return tf.tidy(() => {
    const x = (transA ? transposed(a) : a) as tf.Tensor as tf.Tensor2D;
    const y = (transB ? transposed(b) : b) as tf.Tensor as tf.Tensor2D;
    return tf.matMul(x, y) as tf.Tensor as T;
  });
}
