// Triangular solves and the triangular inverse (f64, row-oriented so inner loops stream rows).
import { EngineError } from '../errors';
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

/** X with L X = B, L lower triangular (entries above the diagonal are ignored). */
export function solveLower(l: Matrix, b: Matrix): Matrix64 {
  checkRhs(l, b);
  const n = l.rows;
  const p = b.cols;
  const x = clone(to64(b));
  const X = x.data;
  const L = l.data;
  for (let i = 0; i < n; i++) {
    const xi = i * p;
    for (let k = 0; k < i; k++) {
      const lik = L[i * n + k]!;
      if (lik === 0) continue;
      const xk = k * p;
      for (let j = 0; j < p; j++) X[xi + j] -= lik * X[xk + j]!;
    }
    const d = L[i * n + i]!;
    for (let j = 0; j < p; j++) X[xi + j] /= d;
  }
  return x;
}

/** X with U X = B, U upper triangular (entries below the diagonal are ignored). */
export function solveUpper(u: Matrix, b: Matrix): Matrix64 {
  checkRhs(u, b);
  const n = u.rows;
  const p = b.cols;
  const x = clone(to64(b));
  const X = x.data;
  const U = u.data;
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * p;
    for (let k = i + 1; k < n; k++) {
      const uik = U[i * n + k]!;
      if (uik === 0) continue;
      const xk = k * p;
      for (let j = 0; j < p; j++) X[xi + j] -= uik * X[xk + j]!;
    }
    const d = U[i * n + i]!;
    for (let j = 0; j < p; j++) X[xi + j] /= d;
  }
  return x;
}

/** L⁻¹ for lower-triangular L; null when a diagonal entry is zero or the result is not finite. */
export function tryInvertLower(l: Matrix): Matrix64 | null {
  assertSquare(l, FILE, 'L');
  const n = l.rows;
  const L = l.data;
  const x = zeros64(n, n);
  const X = x.data;
  for (let i = 0; i < n; i++) {
    const xi = i * n;
    X[xi + i] = 1;
    // row i of L⁻¹ only has entries in columns ≤ i, and row k < i only in columns ≤ k
    for (let k = 0; k < i; k++) {
      const lik = L[i * n + k]!;
      if (lik === 0) continue;
      const xk = k * n;
      for (let j = 0; j <= k; j++) X[xi + j] -= lik * X[xk + j]!;
    }
    const d = L[xi + i]!;
    if (d === 0) return null;
    for (let j = 0; j <= i; j++) {
      const v = X[xi + j]! / d;
      if (!Number.isFinite(v)) return null;
      X[xi + j] = v;
    }
  }
  return x;
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
