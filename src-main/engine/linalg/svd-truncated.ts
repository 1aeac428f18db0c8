// Rank-r SVD with a method switch. 'exact' runs the f64 Golub–Kahan SVD and truncates; 'randomized'
// runs HMT on the tfjs backend; 'auto' picks exact when the matrix is small or r + oversampling is a
// large fraction of min(m, n). Crossover measured on wasm (2 shared cores, power-law spectrum,
// 512×1024, q = 2): exact 3.9–4.9 s; randomized 0.9 s at r = 128, 2.2 s at r = 256 ((r+p)/k = 0.52),
// 7.3 s at r = 384 (0.77). The randomized core SVD (f64, l×n) dominates and grows like l², so the time
// crossover sits near (r+p)/k ≈ 0.6; with q = 2 the randomized residual is also 3–4 % above optimal
// on flat spectra, so we switch to exact from 0.5.
import { EngineError } from '../errors';
import type { Matrix } from './matrix';
import { type SVD, svdExact } from './svd-exact';
import { checkRank, type RandomizedSvdOptions, svdRandomized } from './svd-randomized';

const FILE = 'engine/linalg/svd-truncated';

export type SvdMethod = 'auto' | 'exact' | 'randomized';

/** below this min(m, n) the exact f64 SVD is fast enough that sketching is not worth its error */
export const EXACT_MAX_MIN_DIM = 128;
/** at or above this (r + p) / min(m, n) the sketch is nearly the whole matrix: use exact */
export const EXACT_MIN_FRACTION = 0.5;

export interface TruncatedSvd extends SVD<Matrix> {
  method: 'exact' | 'randomized';
  /** Σ_{i>r} σ_i², known only on the exact path (the randomized one never sees the tail) */
  tailEnergy?: number;
}

export function chooseSvdMethod(m: number, n: number, r: number, oversampling = 10): 'exact' | 'randomized' {
  const k = Math.min(m, n);
  if (k <= EXACT_MAX_MIN_DIM) return 'exact';
  return (r + oversampling) / k >= EXACT_MIN_FRACTION ? 'exact' : 'randomized';
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
    requested === 'auto' ? chooseSvdMethod(w.rows, w.cols, r, opts.oversampling ?? 10) : requested;
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
