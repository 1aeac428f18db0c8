// Orthonormal basis of the columns of a tall f32 matrix on the tfjs backend: Cholesky-QR2 (two rounds
// of Q = Y R⁻¹ with R from chol(YᵀY)), so the O(m·l²) work is three GEMMs per round and only the l×l
// Cholesky/inverse runs in f64 TypeScript. CholQR needs κ(Y) well below 1/√ε_f32 ≈ 4e3; when the
// first-round Cholesky fails or its pivots say κ > 1e3 (rank-deficient or badly scaled sketches),
// we fall back to Householder QR in f64, which is unconditionally stable.
import { tf } from '../tensor/backend';
import { tryCholesky } from './cholesky';
import { fromTensor, transpose } from './matrix';
import { householderQR } from './qr';
import { tryInvertLower } from './triangular';

export type OrthoMethod = 'cholqr2' | 'householder';

const MAX_KAPPA = 1e3;

function cholQrRound(y: tf.Tensor2D, maxKappa: number): tf.Tensor2D | null {
  const gT = tf.tidy(() => tf.matMul(tf.transpose(y), y));
  const g32 = fromTensor(gT);
  gT.dispose();
  const g = { rows: g32.rows, cols: g32.cols, data: Float64Array.from(g32.data) };
  const l = tryCholesky(g);
  if (!l) return null;
  const n = l.rows;
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = l.data[i * n + i]!;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi / lo > maxKappa) return null;
  const linv = tryInvertLower(l);
  if (!linv) return null;
  const rinv = transpose(linv); // R = Lᵀ, R⁻¹ = (L⁻¹)ᵀ
  return tf.tidy(() => tf.matMul(y, tf.tensor2d(Float32Array.from(rinv.data), [n, n])) as tf.Tensor2D);
}

/** Q (m×l, orthonormal columns spanning Y's column space when rank(Y) = l). The caller keeps y. */
export function orthonormalizeTf(y: tf.Tensor2D): { Q: tf.Tensor2D; method: OrthoMethod } {
  const q1 = cholQrRound(y, MAX_KAPPA);
  if (q1) {
    // the second round sees κ(Q1) ≈ 1, so it cannot meet the guard unless something is very wrong
    const q2 = cholQrRound(q1, 10);
    q1.dispose();
    if (q2) return { Q: q2, method: 'cholqr2' };
  }
  const { Q } = householderQR(fromTensor(y));
  return { Q: tf.tensor2d(Float32Array.from(Q.data), [Q.rows, Q.cols]), method: 'householder' };
}
