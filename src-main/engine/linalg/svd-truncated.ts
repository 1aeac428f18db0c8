// Rank-r SVD with a method switch. 'exact' runs the f64 Golub–Kahan SVD and truncates; 'randomized'
// runs HMT on the tfjs backend; 'auto' picks randomized unless the matrix is small (min(m, n) ≤ 128)
// or the sketch would be the whole matrix (r + p ≥ min(m, n)). Accuracy rule: with the defaults
// (p = 10, q = 4) the randomized Frobenius error is within 1 % of the optimal truncated error at every
// rank measured on a 1024×2048 power-law matrix (σ_i ∝ 1/(i+1), the slow decay of trained weights):
// +0.03 % at r = 32, +0.27 % at 128, +0.47 % at 256, +0.73 % at 512, +0.73 % at 768, +0.02 % at 1000
// (q = 2 gave +1.2 % at 128 and +2.9 % at 512). Time (2 shared cores): the exact SVD of that matrix
// takes ~55 s against 0.6–1.5 s (r = 128) and 5–13 s (r = 512) randomized; only near r ≈ k does the
// f64 Householder fallback of the orthonormalisation make randomized slower (60–100 s at r ≥ 768),
// ranks that do not compress anyway (r(m + n) ≥ mn from r = 683 on this shape).
import { EngineError } from '../errors';
import type { Matrix } from './matrix';
import { type SVD, svdExact } from './svd-exact';
import { checkRank, DEFAULT_OVERSAMPLING, type RandomizedSvdOptions, svdRandomized } from './svd-randomized';

const FILE = 'engine/linalg/svd-truncated';

export type SvdMethod = 'auto' | 'exact' | 'randomized';

/** below this min(m, n) the exact f64 SVD is fast enough that sketching is not worth its error */
export const EXACT_MAX_MIN_DIM = 128;

export interface TruncatedSvd extends SVD<Matrix> {
  method: 'exact' | 'randomized';
  /** Σ_{i>r} σ_i², known only on the exact path (the randomized one never sees the tail) */
  tailEnergy?: number;
}

export function chooseSvdMethod(
  m: number,
  n: number,
  r: number,
  oversampling = DEFAULT_OVERSAMPLING,
): 'exact' | 'randomized' {
  const k = Math.min(m, n);
  if (k <= EXACT_MAX_MIN_DIM) return 'exact';
  return r + oversampling >= k ? 'exact' : 'randomized';
}

export function svdTruncated(
  w: Matrix,
  r: number,
  opts: RandomizedSvdOptions & { method?: SvdMethod } = {},
): TruncatedSvd {
  checkRank(w, r, FILE);
  const requested = opts.method ?? 'auto';
  if (!['auto', 'exact', 'randomized'].includes(requested)) {
    throw new EngineError(`unknown method '${requested}'; expected auto, exact or randomized`, {
      file: FILE,
      field: 'method',
    });
  }
  const method =
    requested === 'auto'
      ? chooseSvdMethod(w.rows, w.cols, r, opts.oversampling ?? DEFAULT_OVERSAMPLING)
      : requested;
  if (method === 'randomized') {
    const { U, S, Vt } = svdRandomized(w, r, opts);
    return { U, S, Vt, method };
  }
  const full = svdExact(w);
  let tailEnergy = 0;
  for (let i = r; i < full.S.length; i++) tailEnergy += full.S[i]! * full.S[i]!;
  return { ...truncate(full, r), method, tailEnergy };
}

/** Keeps the leading r triplets of a thin SVD. */
export function truncate(svd: SVD, r: number): SVD {
  const { U, S, Vt } = svd;
  const m = U.rows;
  const k = U.cols;
  const u = new Float64Array(m * r);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) u[i * r + j] = U.data[i * k + j]!;
  return {
    U: { rows: m, cols: r, data: u },
    S: S.slice(0, r),
    Vt: { rows: r, cols: Vt.cols, data: Vt.data.slice(0, r * Vt.cols) },
  };
}
