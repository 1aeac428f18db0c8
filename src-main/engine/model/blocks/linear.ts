// Executable linear maps: weights pre-transposed once to [in, out] because tfjs-wasm matMul with
// transpose flags is 10-40x slower than a plain product.
import { tf } from '../../tensor/backend';
import type { Linear, Tensor1D, Tensor2D } from '../types';

export type ExecLinear =
  | { kind: 'dense'; wT: Tensor2D; bias?: Tensor1D }
  /** y = (x · bT) · aT; `bT` may be shared by several experts (same object). */
  | { kind: 'factored'; bT: Tensor2D; aT: Tensor2D; bias?: Tensor1D }
  | { kind: 'delta'; baseT: Tensor2D; bT: Tensor2D; aT: Tensor2D };

/**
 * x [n, in] -> [n, out]. `pre` is x · bT when the caller already computed it (shared V); `preBase`
 * is x · wT (dense) or x · baseT (delta) when that matrix is shared by several experts and the
 * caller applied it once to the whole chunk (D²-MoE's base, §3.3) and gathered this expert's rows.
 */
export function applyLinear(x: Tensor2D, L: ExecLinear, pre?: Tensor2D, preBase?: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    let y: Tensor2D;
    if (L.kind === 'dense') y = preBase ? tf.clone(preBase) : tf.matMul(x, L.wT);
    else if (L.kind === 'factored') y = tf.matMul(pre ?? tf.matMul(x, L.bT), L.aT);
    else y = tf.add(preBase ?? tf.matMul(x, L.baseT), tf.matMul(pre ?? tf.matMul(x, L.bT), L.aT));
    return 'bias' in L && L.bias ? tf.add(y, L.bias) : y;
  });
}

/**
 * Convert a view linear (HF layout) to its executable form. `memo` maps each source tensor to its
 * transpose so a B shared by several experts stays one object (and is transposed once).
 */
export function toExecLinear(L: Linear, memo: Map<tf.Tensor, Tensor2D>): ExecLinear {
  const t = (m: Tensor2D): Tensor2D => {
    let r = memo.get(m);
    if (!r) {
      r = tf.transpose(m) as Tensor2D;
      memo.set(m, r);
    }
    return r;
  };
  // a quantized linear runs its exact dequantization as a dense product
  if (L.kind === 'dense' || L.kind === 'quantized')
    return L.bias ? { kind: 'dense', wT: t(L.w), bias: L.bias } : { kind: 'dense', wT: t(L.w) };
  if (L.kind === 'factored') {
    return L.bias
      ? { kind: 'factored', bT: t(L.B), aT: t(L.A), bias: L.bias }
      : { kind: 'factored', bT: t(L.B), aT: t(L.A) };
  }
  return { kind: 'delta', baseT: t(L.base), bT: t(L.B), aT: t(L.A) };
}

export function execLinearTensors(L: ExecLinear): tf.Tensor[] {
  if (L.kind === 'dense') return [L.wT];
  if (L.kind === 'factored') return [L.bT, L.aT];
  return [L.baseT, L.bT, L.aT];
}
