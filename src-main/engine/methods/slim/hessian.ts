// The Hessian preparation SparseGPT and GPTQ share (METHODS §4.1; AutoGPTQ gptq.py): H = (2/n)·Σ x xᵀ
// over the n calibration forward calls of the matrix (running mean over calls, as add_batch), dead
// inputs H_jj = 0 → H_jj = 1 (their weights are zeroed by the caller), damping
// percdamp·mean(diag H) on the diagonal, then U = upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU), the
// reference's cholesky → cholesky_inverse → cholesky(upper). All f64 (§10.1).
import { EngineError } from '../../errors';
import { tryCholesky } from '../../linalg/cholesky';
import { matrix } from '../../linalg/matrix';
import { tryInvertLower } from '../../linalg/triangular';

const FILE = 'engine/methods/slim/hessian';

export interface Hessian {
  n: number;
  /** H, n×n row-major (dead diagonal entries already 1) */
  H: Float64Array;
  /** dead[j] = 1 when input j never saw a nonzero activation */
  dead: Uint8Array;
  deadCount: number;
}

/** H = (2/calls)·G with the dead-input rule; G is Σ x xᵀ over the routed tokens. */
export function hessianFromGram(gram: Float64Array, n: number, calls: number): Hessian {
  const H = new Float64Array(n * n);
  const f = calls > 0 ? 2 / calls : 0;
  for (let i = 0; i < H.length; i++) H[i] = gram[i]! * f;
  const dead = new Uint8Array(n);
  let deadCount = 0;
  for (let j = 0; j < n; j++)
    if (H[j * n + j] === 0) {
      H[j * n + j] = 1;
      dead[j] = 1;
      deadCount++;
    }
  return { n, H, dead, deadCount };
}

/** Symmetric permutation P H Pᵀ: out[i][j] = H[perm[i]][perm[j]]. */
export function permuteSymmetric(H: Float64Array, n: number, perm: Int32Array): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = perm[i]! * n;
    for (let j = 0; j < n; j++) out[i * n + j] = H[src + perm[j]!]!;
  }
  return out;
}

export interface InverseFactor {
  /** upper-triangular U, n×n row-major, with (H + damp·I)⁻¹ = UᵀU */
  U: Float64Array;
  /** damping actually added (percdamp·mean diag, times 10 per retry) */
  damp: number;
  retries: number;
}

/**
 * U = chol_upper((H + damp·I)⁻¹). If a factorisation fails in f64 (a nearly singular H with tiny
 * damping), the damping is multiplied by 10 and the factorisation retried, up to 4 times.
 */
export function inverseUpperCholesky(H: Float64Array, n: number, percdamp: number): InverseFactor {
  let mean = 0;
  for (let j = 0; j < n; j++) mean += H[j * n + j]!;
  mean /= n;
  let damp = percdamp * mean;
  for (let retries = 0; retries <= 4; retries++) {
    const Hd = H.slice();
    for (let j = 0; j < n; j++) Hd[j * n + j] += damp;
    const L = tryCholesky(matrix(n, n, Hd));
    const Linv = L && tryInvertLower(L);
    if (Linv) {
      // H⁻¹ = L⁻ᵀ L⁻¹, lower half only (tryCholesky reads j ≤ i): Σ_k≥i Linv[k][i]·Linv[k][j]
      const Li = Linv.data;
      const Hinv = new Float64Array(n * n);
      for (let k = 0; k < n; k++) {
        const rk = k * n;
        for (let i = 0; i <= k; i++) {
          const a = Li[rk + i]!;
          if (a === 0) continue;
          const ri = i * n;
          for (let j = 0; j <= i; j++) Hinv[ri + j] += a * Li[rk + j]!;
        }
      }
      const L2 = tryCholesky(matrix(n, n, Hinv));
      if (L2) {
        const U = new Float64Array(n * n);
        const l2 = L2.data;
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) U[j * n + i] = l2[i * n + j]!;
        return { U, damp, retries };
      }
    }
    damp = damp > 0 ? damp * 10 : 1e-8 * Math.max(mean, 1);
  }
  throw new EngineError('the calibration Hessian is not positive definite even with 10^4 × the damping', {
    file: FILE,
    field: 'dampening',
    hint: 'raise dampening or use more calibration samples',
  });
}
