// Input-side scale S for factorising W S (METHODS §1.2–§1.3). Each scale carries both S (used in W·S)
// and the S⁻¹ actually applied to the B factor: the references compute the inverse separately, with a
// +1e-6·I retry when S is singular, so S⁻¹ may be the inverse of a slightly shifted S.

import type { InputStatistics } from '../../calibration/gram';
import { EngineError } from '../../errors';
import type { Matrix64 } from '../../linalg/matrix';
import { choleskyRepaired, type PdRepair, type PdRepairReport } from '../../linalg/pd-repair';
import { invertLowerWithRetry } from '../../linalg/triangular';

const FILE = 'engine/methods/lowrank/scaling';

export type Scale =
  | { kind: 'identity'; dim: number; fallback?: string }
  | { kind: 'diagonal'; dim: number; d: Float64Array; dInv: Float64Array; inverseShift: number }
  | { kind: 'lower'; dim: number; L: Matrix64; Linv: Matrix64; inverseShift: number; repair: PdRepairReport };

/** Vanilla SVD. */
export function identityScale(dim: number, fallback?: string): Scale {
  return fallback === undefined ? { kind: 'identity', dim } : { kind: 'identity', dim, fallback };
}

/** null-space dimension (channels − routed tokens) from which the plain Cholesky is not tried */
const NULL_SPACE_SKIP = 16;

const ZERO_TOKENS = 'no calibration tokens reached this layer (G = 0): identity scaling, i.e. plain SVD';

export interface WhiteningOptions {
  repair?: PdRepair;
  clampFloor?: number;
  tolerance?: number;
  inverseShift?: number;
}

/** SVD-LLM whitening: S = chol(G) with the chosen positive-definite repair. */
export function whiteningScale(
  stats: Pick<InputStatistics, 'dim' | 'tokens' | 'gram'>,
  opts: WhiteningOptions = {},
): Scale {
  if (stats.gram.rows !== stats.dim || stats.gram.cols !== stats.dim) {
    throw new EngineError(
      `Gram is ${stats.gram.rows}x${stats.gram.cols}, expected ${stats.dim}x${stats.dim}`,
      {
        file: FILE,
        field: 'gram',
      },
    );
  }
  if (stats.tokens === 0) return identityScale(stats.dim, ZERO_TOKENS);
  // Σ x xᵀ over fewer rows than columns is singular; its rounding noise on a null space of
  // dimension d is a random symmetric d×d matrix, all of whose eigenvalues are positive with a
  // probability like e^(−d²/4) (GOE), so from NULL_SPACE_SKIP on the plain Cholesky cannot succeed
  // and the repair skips it. Below that it sometimes does (tiny test models), and then, as in the
  // reference, the unshifted factor is used.
  const { L, repair } = choleskyRepaired(stats.gram, opts.repair ?? 'shift-min-eig', {
    ...opts,
    rankDeficient: stats.dim - stats.tokens >= NULL_SPACE_SKIP,
  });
  const { inverse, shift } = invertLowerWithRetry(L, opts.inverseShift ?? 1e-6);
  return { kind: 'lower', dim: stats.dim, L, Linv: inverse, inverseShift: shift, repair };
}

/**
 * ASVD: S = diag(m^α), m = Σ_batches mean|x| (§1.3). NaN/Inf in m → 0, NaN/Inf in S → 1e-6; if any
 * S_c is 0 the inverse is taken of S + 1e-6·I (the reference's retry), while W·S keeps the zeros.
 */
export function asvdScale(
  stats: Pick<InputStatistics, 'dim' | 'tokens' | 'absMeanSum'>,
  opts: { alpha?: number; inverseShift?: number } = {},
): Scale {
  const alpha = opts.alpha ?? 0.5;
  if (!Number.isFinite(alpha))
    throw new EngineError(`must be finite, got ${alpha}`, { file: FILE, field: 'alpha' });
  if (stats.absMeanSum.length !== stats.dim) {
    throw new EngineError(`has ${stats.absMeanSum.length} channels, expected ${stats.dim}`, {
      file: FILE,
      field: 'absMeanSum',
    });
  }
  if (stats.tokens === 0) return identityScale(stats.dim, ZERO_TOKENS);
  const d = new Float64Array(stats.dim);
  for (let c = 0; c < stats.dim; c++) {
    const m = Number.isFinite(stats.absMeanSum[c]!) ? stats.absMeanSum[c]! : 0;
    const s = m ** alpha;
    d[c] = Number.isFinite(s) ? s : 1e-6;
  }
  const shift = d.some((v) => v === 0) ? (opts.inverseShift ?? 1e-6) : 0;
  const dInv = d.map((v) => 1 / (v + shift));
  return { kind: 'diagonal', dim: stats.dim, d, dInv, inverseShift: shift };
}
