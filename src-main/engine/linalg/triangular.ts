// Triangular solves and the triangular inverse (f64), blocked: scalar row-oriented substitution inside
// NB×NB diagonal blocks, every off-diagonal block product through the packed f64 GEMM.
import { EngineError } from '../errors';
import { gemm64 } from './gemm64';
import { assertSquare, clone, type Matrix, type Matrix64, to64, zeros64 } from './matrix';

const FILE = 'engine/linalg/triangular';

function checkRhs(t: Matrix, b: Matrix): void {
  assertSquare(t, FILE, 'T');
  if (b.rows !== t.rows) {
    throw new EngineError(`right-hand side has ${b.rows} rows, expected ${t.rows}`, {
      file: FILE,
      field: 'B',
    });
  }
}

/** diagonal block width of the blocked solves and inverse (the off-diagonal work is `gemm64`) */
export const TRIANGULAR_BLOCK = 128;

export interface TriangularOptions {
  /** diagonal block width (default TRIANGULAR_BLOCK); ≥ n gives the unblocked algorithm */
  blockSize?: number;
}

function blockSizeOf(opts: TriangularOptions): number {
  const nb = opts.blockSize ?? TRIANGULAR_BLOCK;
  if (!Number.isInteger(nb) || nb < 1)
    throw new EngineError(`must be an integer ≥ 1, got ${nb}`, { file: FILE, field: 'blockSize' });
  return nb;
}

/** X with L X = B, L lower triangular (entries above the diagonal are ignored). */
export function solveLower(l: Matrix, b: Matrix, opts: TriangularOptions = {}): Matrix64 {
  checkRhs(l, b);
  const nb = blockSizeOf(opts);
  const n = l.rows;
  const p = b.cols;
  const L = to64(l).data;
  const x = clone(to64(b));
  const X = x.data;
  for (let i0 = 0; i0 < n; i0 += nb) {
    const i1 = Math.min(n, i0 + nb);
    // X[I] -= L[I, 0:I] X[0:I], then forward substitution inside the diagonal block
    gemm64(
      i1 - i0,
      p,
      i0,
      -1,
      { data: L, offset: i0 * n, ld: n },
      { data: X, offset: 0, ld: p },
      { data: X, offset: i0 * p, ld: p },
    );
    for (let i = i0; i < i1; i++) {
      const xi = i * p;
      for (let k = i0; k < i; k++) {
        const lik = L[i * n + k]!;
        if (lik === 0) continue;
        const xk = k * p;
        for (let j = 0; j < p; j++) X[xi + j] -= lik * X[xk + j]!;
      }
      const d = L[i * n + i]!;
      for (let j = 0; j < p; j++) X[xi + j] /= d;
    }
  }
  return x;
}

/** X with U X = B, U upper triangular (entries below the diagonal are ignored). */
export function solveUpper(u: Matrix, b: Matrix, opts: TriangularOptions = {}): Matrix64 {
  checkRhs(u, b);
  const nb = blockSizeOf(opts);
  const n = u.rows;
  const p = b.cols;
  const U = to64(u).data;
  const x = clone(to64(b));
  const X = x.data;
  for (let i1 = n; i1 > 0; i1 -= nb) {
    const i0 = Math.max(0, i1 - nb);
    // X[I] -= U[I, I1:n] X[I1:n], then back substitution inside the diagonal block
    gemm64(
      i1 - i0,
      p,
      n - i1,
      -1,
      { data: U, offset: i0 * n + i1, ld: n },
      { data: X, offset: i1 * p, ld: p },
      { data: X, offset: i0 * p, ld: p },
    );
    for (let i = i1 - 1; i >= i0; i--) {
      const xi = i * p;
      for (let k = i + 1; k < i1; k++) {
        const uik = U[i * n + k]!;
        if (uik === 0) continue;
        const xk = k * p;
        for (let j = 0; j < p; j++) X[xi + j] -= uik * X[xk + j]!;
      }
      const d = U[i * n + i]!;
      for (let j = 0; j < p; j++) X[xi + j] /= d;
    }
  }
  return x;
}

/**
 * L⁻¹ for lower-triangular L (entries above the diagonal are ignored); null when a diagonal entry is
 * zero or the result is not finite. Blocked by block rows: X[I,I] = L[I,I]⁻¹ (unblocked), then
 * X[I, 0:I] = −X[I,I] · (L[I, 0:I] · X[0:I, 0:I]), the inner product skipping X's zero upper blocks.
 */
export function tryInvertLower(l: Matrix, opts: TriangularOptions = {}): Matrix64 | null {
  assertSquare(l, FILE, 'L');
  const nb = blockSizeOf(opts);
  const n = l.rows;
  const L = to64(l).data;
  const x = zeros64(n, n);
  const X = x.data;
  let t = new Float64Array(0);
  for (let i0 = 0; i0 < n; i0 += nb) {
    const i1 = Math.min(n, i0 + nb);
    const b = i1 - i0;
    if (!invertDiagonalBlock(L, X, n, i0, i1)) return null;
    if (i0 === 0) continue;
    if (t.length < b * i0) t = new Float64Array(b * Math.max(i0, n - nb));
    t.fill(0, 0, b * i0);
    for (let j0 = 0; j0 < i0; j0 += nb) {
      const j1 = Math.min(i0, j0 + nb);
      // T[:, J] = Σ_{K=J..I-1} L[I,K] X[K,J] (X[K,J] = 0 for K < J)
      gemm64(
        b,
        j1 - j0,
        i0 - j0,
        1,
        { data: L, offset: i0 * n + j0, ld: n },
        { data: X, offset: j0 * n + j0, ld: n },
        { data: t, offset: j0, ld: i0 },
      );
    }
    gemm64(
      b,
      i0,
      b,
      -1,
      { data: X, offset: i0 * n + i0, ld: n },
      { data: t, offset: 0, ld: i0 },
      { data: X, offset: i0 * n, ld: n },
    );
  }
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j <= i; j++) if (!Number.isFinite(X[r + j]!)) return null;
  }
  return x;
}

// X[I,I] = L[I,I]⁻¹ for the block rows/cols [i0, i1), row by row; false when a pivot is zero or the block is not finite
function invertDiagonalBlock(L: Float64Array, X: Float64Array, n: number, i0: number, i1: number): boolean {
  for (let i = i0; i < i1; i++) {
    const xi = i * n;
    X[xi + i] = 1;
    // row i of the block inverse only has entries in columns i0..i, and row k < i only in i0..k
    for (let k = i0; k < i; k++) {
      const lik = L[i * n + k]!;
      if (lik === 0) continue;
      const xk = k * n;
      for (let j = i0; j <= k; j++) X[xi + j] -= lik * X[xk + j]!;
    }
    const d = L[xi + i]!;
    if (d === 0) return false;
    for (let j = i0; j <= i; j++) {
      const v = X[xi + j]! / d;
      if (!Number.isFinite(v)) return false;
      X[xi + j] = v;
    }
  }
  return true;
}

export interface InverseResult {
  inverse: Matrix64;
  /** the diagonal shift that made inversion succeed (0 when none was needed) */
  shift: number;
}

/**
 * L⁻¹ with the reference codes' fallback (METHODS §1.2 step 5): if inversion fails, add `shift·I`
 * (default 1e-6) and retry once; a second failure is an error.
 */
export function invertLowerWithRetry(l: Matrix, shift = 1e-6): InverseResult {
  const first = tryInvertLower(l);
  if (first) return { inverse: first, shift: 0 };
  const shifted = clone(to64(l));
  for (let i = 0; i < l.rows; i++) shifted.data[i * l.rows + i] += shift;
  const second = tryInvertLower(shifted);
  if (!second) {
    throw new EngineError(`triangular matrix is singular even after adding ${shift}·I`, {
      file: FILE,
      field: 'L',
    });
  }
  return { inverse: second, shift };
}
