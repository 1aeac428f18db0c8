// Cholesky factorisation G = L Lᵀ (f64, lower), blocked right-looking: factor a NB×NB diagonal block
// (dot-product form), solve the panel below it against that block, then subtract the panel's outer
// product from the trailing lower triangle with the f64 GEMM. All O(n³) work but the O(n²·NB) panel
// solves goes through `gemm64`; everything stays in f64 (calibration Grams are repaired with a 1e-6
// shift and have condition numbers of 1e9 and more, so f32 products are out of the question here).
import { EngineError } from '../errors';
import { gemm64 } from './gemm64';
import { assertFinite, assertSquare, type Matrix, type Matrix64, zeros64 } from './matrix';

const FILE = 'engine/linalg/cholesky';

/** diagonal block width; 64…256 measured within 15 % of each other at n = 2048 (GEMM-bound), 128–192 best */
export const CHOLESKY_BLOCK = 128;
/** rows of the trailing matrix per GEMM call (one packed A block) */
const TRAILING_ROWS = 96;

export interface CholeskyOptions {
  /** diagonal block width (default CHOLESKY_BLOCK); ≥ n gives the unblocked algorithm */
  blockSize?: number;
}

/** Returns L, or null when G is not (numerically) positive definite: a pivot ≤ 0 or non-finite. Reads G's lower triangle. */
export function tryCholesky(g: Matrix, opts: CholeskyOptions = {}): Matrix64 | null {
  assertSquare(g, FILE, 'G');
  const n = g.rows;
  const nb = opts.blockSize ?? CHOLESKY_BLOCK;
  if (!Number.isInteger(nb) || nb < 1)
    throw new EngineError(`must be an integer ≥ 1, got ${nb}`, { file: FILE, field: 'blockSize' });
  const G = g.data;
  const l = zeros64(n, n);
  const W = l.data;
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j <= i; j++) W[r + j] = G[r + j]!;
  }
  for (let j0 = 0; j0 < n; j0 += nb) {
    const b = Math.min(nb, n - j0);
    if (!factorDiagonalBlock(W, n, j0, b)) return null;
    const below = j0 + b;
    if (below >= n) break;
    solvePanel(W, n, j0, b, below);
    // trailing lower triangle -= L21 L21ᵀ, by row blocks up to (and including) their diagonal tile;
    // the few products that land above the diagonal are cleared at the end
    for (let r0 = below; r0 < n; r0 += TRAILING_ROWS) {
      const r1 = Math.min(n, r0 + TRAILING_ROWS);
      gemm64(
        r1 - r0,
        r1 - below,
        b,
        -1,
        { data: W, offset: r0 * n + j0, ld: n },
        { data: W, offset: below * n + j0, ld: n, trans: true },
        { data: W, offset: r0 * n + below, ld: n },
      );
    }
  }
  for (let i = 0; i < n; i++) W.fill(0, i * n + i + 1, (i + 1) * n);
  return l;
}

// In-place dot-product Cholesky of the b×b block at (j0, j0); false on a pivot ≤ 0 or non-finite.
function factorDiagonalBlock(W: Float64Array, n: number, j0: number, b: number): boolean {
  for (let i = j0; i < j0 + b; i++) {
    const ri = i * n;
    for (let j = j0; j <= i; j++) {
      const rj = j * n;
      let s = W[ri + j]!;
      for (let k = j0; k < j; k++) s -= W[ri + k]! * W[rj + k]!;
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return false;
        W[ri + i] = Math.sqrt(s);
      } else {
        W[ri + j] = s / W[rj + j]!;
      }
    }
  }
  return true;
}

// Rows i ≥ `from`: W[i, j0:j0+b] ← W[i, j0:j0+b] · L11⁻ᵀ (forward substitution along the row), four rows
// at a time so that each entry of L11 is loaded once per four rows.
function solvePanel(W: Float64Array, n: number, j0: number, b: number, from: number): void {
  let i = from;
  for (; i + 3 < n; i += 4) {
    const r0 = i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    for (let c = j0; c < j0 + b; c++) {
      const rc = c * n;
      let s0 = W[r0 + c]!;
      let s1 = W[r1 + c]!;
      let s2 = W[r2 + c]!;
      let s3 = W[r3 + c]!;
      for (let k = j0; k < c; k++) {
        const lck = W[rc + k]!;
        s0 -= W[r0 + k]! * lck;
        s1 -= W[r1 + k]! * lck;
        s2 -= W[r2 + k]! * lck;
        s3 -= W[r3 + k]! * lck;
      }
      const d = W[rc + c]!;
      W[r0 + c] = s0 / d;
      W[r1 + c] = s1 / d;
      W[r2 + c] = s2 / d;
      W[r3 + c] = s3 / d;
    }
  }
  for (; i < n; i++) {
    const ri = i * n;
    for (let c = j0; c < j0 + b; c++) {
      const rc = c * n;
      let s = W[ri + c]!;
      for (let k = j0; k < c; k++) s -= W[ri + k]! * W[rc + k]!;
      W[ri + c] = s / W[rc + c]!;
    }
  }
}

/** Cholesky without repair: throws a clear error when G is not positive definite. */
export function cholesky(g: Matrix, opts: CholeskyOptions = {}): Matrix64 {
  assertFinite(g, FILE, 'G');
  const l = tryCholesky(g, opts);
  if (!l) {
    throw new EngineError('matrix is not positive definite', {
      file: FILE,
      field: 'G',
      hint: "use choleskyRepaired with 'shift-min-eig', 'clamp-eig' or 'shift-all'",
    });
  }
  return l;
}
