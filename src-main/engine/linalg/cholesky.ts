// Cholesky factorisation G = L Lᵀ (f64, lower), blocked right-looking: factor a NB×NB diagonal block
// (dot-product form), solve the panel below it against that block, then subtract the panel's outer
// product from the trailing lower triangle with the f64 GEMM. All O(n³) and O(n²·NB) work goes through
// `gemm64` (the panel solve as a product with the diagonal block's inverse); everything stays in f64
// (calibration Grams are repaired with a 1e-6 shift and have condition numbers of 1e9 and more, so
// f32 products are out of the question here).
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
    solvePanel(W, n, j0, b, below, inverseOfBlock(W, n, j0, b));
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

// (L11)⁻¹ of the factored b×b diagonal block at (j0, j0), row-major b×b with zeros above the diagonal:
// column by column forward substitution, O(b³/6), next to the O(n²·b) panel product it feeds
function inverseOfBlock(W: Float64Array, n: number, j0: number, b: number): Float64Array {
  const inv = new Float64Array(b * b);
  for (let c = 0; c < b; c++) {
    inv[c * b + c] = 1 / W[(j0 + c) * n + j0 + c]!;
    for (let i = c + 1; i < b; i++) {
      const ri = (j0 + i) * n + j0;
      let s = 0;
      for (let k = c; k < i; k++) s -= W[ri + k]! * inv[k * b + c]!;
      inv[i * b + c] = s / W[ri + i]!;
    }
  }
  return inv;
}

// Rows i ≥ `from`: W[i, j0:j0+b] ← W[i, j0:j0+b] · L11⁻ᵀ as one GEMM against the block's inverse (the
// panel is copied out first, since the product overwrites it). An explicit inverse costs a factor
// κ(L11) in the panel's rounding error, ~1e-12 for the κ ≤ 1e4 blocks of a repaired Gram (κ(G) ≤ 1e9,
// see the identity tests), and took n = 2048 from 0.69 to 0.53 s against row-wise substitution.
function solvePanel(
  W: Float64Array,
  n: number,
  j0: number,
  b: number,
  from: number,
  inv: Float64Array,
): void {
  const rows = n - from;
  const panel = new Float64Array(rows * b);
  for (let i = 0; i < rows; i++) {
    const r = (from + i) * n + j0;
    panel.set(W.subarray(r, r + b), i * b);
    W.fill(0, r, r + b);
  }
  gemm64(
    rows,
    b,
    b,
    1,
    { data: panel, offset: 0, ld: b },
    { data: inv, offset: 0, ld: b, trans: true },
    { data: W, offset: from * n + j0, ld: n },
  );
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
