// Orthonormal basis of the columns of a tall f32 matrix on the tfjs backend: Cholesky-QR2 (two rounds
// of Q = Y R⁻¹ with R from chol(YᵀY)), so the O(m·l²) work is three GEMMs per round and only the l×l
// Cholesky/inverse runs in f64 TypeScript. CholQR needs κ(Y) well below 1/√ε_f32 ≈ 4e3; when the
// first-round Cholesky fails or its pivots say κ > 1e3 (power iterations on a fast-decaying spectrum
// reach that routinely), shifted CholeskyQR (Fukaya et al. 2020) takes over: chol(YᵀY + sI) succeeds
// for a shift s above the f32 Gram error, and each such round divides κ by ~√(‖Y‖²/s) ≈ 300 until two
// plain rounds can finish. Householder QR in f64 (unconditionally stable, ~30× slower at 2048×419)
// remains for what the shift cannot handle: a zero sketch, or κ beyond f32 altogether.
import { tf } from '../tensor/backend';
import { tryCholesky } from './cholesky';
import { fromTensor, transpose } from './matrix';
import { householderQR } from './qr';
import { tryInvertLower } from './triangular';

export type OrthoMethod =
  | 'cholqr2'
  | 'shifted-cholqr'
  | 'householder'
  | 'cholqr1'
  | 'shifted-cholqr-basis'
  /** no basis taken: the product was well enough conditioned to feed the next one as it is */
  | 'skipped';

const MAX_KAPPA = 1e3;
/** s = SHIFT·tr(YᵀY): above the f32 Gram error (~√m·ε₃₂·‖Y‖² ≈ 3e-6‖Y‖² at m = 2048) */
const SHIFT = 1e-5;

interface Round {
  Q: tf.Tensor2D;
  /** max/min of R's diagonal: a lower bound on κ(Y) */
  diagonalRatio: number;
}

function cholQrRound(y: tf.Tensor2D, maxKappa: number, shift = 0): tf.Tensor2D | null {
  return cholQrRoundWithRatio(y, maxKappa, shift)?.Q ?? null;
}

function cholQrRoundWithRatio(y: tf.Tensor2D, maxKappa: number, shift = 0): Round | null {
  const gT = tf.tidy(() => tf.matMul(tf.transpose(y), y));
  const g32 = fromTensor(gT);
  gT.dispose();
  const n = g32.rows;
  const g = { rows: n, cols: n, data: Float64Array.from(g32.data) };
  if (shift > 0) {
    let trace = 0;
    for (let i = 0; i < n; i++) trace += g.data[i * n + i]!;
    for (let i = 0; i < n; i++) g.data[i * n + i]! += shift * trace;
  }
  const l = tryCholesky(g);
  if (!l) return null;
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
  const Q = tf.tidy(() => tf.matMul(y, tf.tensor2d(Float32Array.from(rinv.data), [n, n])) as tf.Tensor2D);
  return { Q, diagonalRatio: hi / lo };
}

/** Rounds after the first; each disposes its input. Null when a round fails its guard. */
function finish(q: tf.Tensor2D, kappas: number[]): tf.Tensor2D | null {
  let cur: tf.Tensor2D | null = q;
  for (const k of kappas) {
    const next: tf.Tensor2D | null = cholQrRound(cur, k);
    cur.dispose();
    if (!next) return null;
    cur = next;
  }
  return cur;
}

/** Q (m×l, orthonormal columns spanning Y's column space when rank(Y) = l). The caller keeps y. */
export function orthonormalizeTf(y: tf.Tensor2D): { Q: tf.Tensor2D; method: OrthoMethod } {
  const q1 = cholQrRound(y, MAX_KAPPA);
  // the second round sees κ(Q1) ≈ 1, so it cannot meet the guard unless something is very wrong
  const q2 = q1 && finish(q1, [10]);
  if (q2) return { Q: q2, method: 'cholqr2' };
  const s = shiftedCholQr(y, [10]);
  return s ? { Q: s, method: 'shifted-cholqr' } : householder(y);
}

/**
 * A well-conditioned basis of span(Y) (columns orthonormal only to ~ε₃₂·κ² ≤ 0.06 for the κ ≤ 1e3
 * the guard lets through): the first plain CholQR round, after shifted rounds where Y needs them.
 * Between power iterations this is all that is needed: the span is what carries over, and it is as
 * accurate as f32 Y allows whichever way it is orthonormalised. The caller keeps y.
 */
export function wellConditionedBasisTf(y: tf.Tensor2D): {
  Q: tf.Tensor2D;
  method: OrthoMethod;
  /** the plain round's max/min of diag(R), a lower bound on κ(Y) (absent on the shifted paths) */
  diagonalRatio?: number;
} {
  const q1 = cholQrRoundWithRatio(y, MAX_KAPPA);
  if (q1) return { Q: q1.Q, method: 'cholqr1', diagonalRatio: q1.diagonalRatio };
  const s = shiftedCholQr(y, []);
  return s ? { Q: s, method: 'shifted-cholqr-basis' } : householder(y);
}

/** shifted rounds tried before giving up: each divides κ by ~1/√SHIFT ≈ 300, three reach past 1/ε₃₂ */
const MAX_SHIFTED_ROUNDS = 3;

// Shifted rounds map Y's singular values σ to σ/√(σ² + s): κ shrinks by ~√(s/σ₁²) per round while the
// span is kept exactly (R is invertible). Once a plain round passes the κ ≤ 1e3 guard, `after` plain
// rounds finish. A shifted round alone would not do for a basis: it leaves the small directions at
// σ/√s ≪ 1, where the next power products push them under f32 rounding.
function shiftedCholQr(y: tf.Tensor2D, after: number[]): tf.Tensor2D | null {
  let cur = y;
  for (let t = 0; t < MAX_SHIFTED_ROUNDS; t++) {
    const shifted = cholQrRound(cur, Number.POSITIVE_INFINITY, SHIFT);
    if (cur !== y) cur.dispose();
    if (!shifted) return null;
    const plain = cholQrRound(shifted, MAX_KAPPA);
    if (plain) {
      shifted.dispose();
      return finish(plain, after);
    }
    cur = shifted;
  }
  if (cur !== y) cur.dispose();
  return null;
}

function householder(y: tf.Tensor2D): { Q: tf.Tensor2D; method: OrthoMethod } {
  const { Q } = householderQR(fromTensor(y));
  return { Q: tf.tensor2d(Float32Array.from(Q.data), [Q.rows, Q.cols]), method: 'householder' };
}
