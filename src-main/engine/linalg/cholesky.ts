// Cholesky factorisation G = L Lᵀ (f64, lower). Row-major dot-product form: every inner loop reads
// two contiguous rows of L.
import { EngineError } from '../errors';
import { assertFinite, assertSquare, type Matrix, type Matrix64, zeros64 } from './matrix';

const FILE = 'engine/linalg/cholesky';

/** Returns L, or null when G is not (numerically) positive definite: a pivot ≤ 0 or non-finite. */
export function tryCholesky(g: Matrix): Matrix64 | null {
  assertSquare(g, FILE, 'G');
  const n = g.rows;
  const G = g.data;
  const l = zeros64(n, n);
  const L = l.data;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = G[ri + j]!;
      for (let k = 0; k < j; k++) s -= L[ri + k]! * L[rj + k]!;
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return null;
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j]!;
      }
    }
  }
  return l;
}

/** Cholesky without repair: throws a clear error when G is not positive definite. */
export function cholesky(g: Matrix): Matrix64 {
  assertFinite(g, FILE, 'G');
  const l = tryCholesky(g);
  if (!l) {
    throw new EngineError('matrix is not positive definite', {
      file: FILE,
      field: 'G',
      hint: "use choleskyRepaired with 'shift-min-eig', 'clamp-eig' or 'shift-all'",
    });
  }
  return l;
}
