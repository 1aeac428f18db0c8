// General square inverse (f64, Gauss–Jordan with partial pivoting) with the +shift·I retry that the
// reference codes use around torch.linalg.inv (METHODS §1.2 step 5).
import { EngineError } from '../errors';
import { assertFinite, assertSquare, clone, identity64, type Matrix, type Matrix64, to64 } from './matrix';
import type { InverseResult } from './triangular';

const FILE = 'engine/linalg/inverse';

/** A⁻¹, or null when a pivot is exactly zero (what LAPACK getrf reports as singular). */
export function tryInvert(a: Matrix): Matrix64 | null {
  assertSquare(a, FILE, 'A');
  const n = a.rows;
  const w = clone(to64(a));
  const W = w.data;
  const x = identity64(n);
  const X = x.data;
  for (let c = 0; c < n; c++) {
    let piv = c;
    let best = Math.abs(W[c * n + c]!);
    for (let r = c + 1; r < n; r++) {
      const v = Math.abs(W[r * n + c]!);
      if (v > best) {
        best = v;
        piv = r;
      }
    }
    if (best === 0) return null;
    if (piv !== c) {
      for (let j = 0; j < n; j++) {
        const t = W[c * n + j]!;
        W[c * n + j] = W[piv * n + j]!;
        W[piv * n + j] = t;
        const u = X[c * n + j]!;
        X[c * n + j] = X[piv * n + j]!;
        X[piv * n + j] = u;
      }
    }
    const inv = 1 / W[c * n + c]!;
    for (let j = 0; j < n; j++) {
      W[c * n + j] *= inv;
      X[c * n + j] *= inv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = W[r * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        W[r * n + j] -= f * W[c * n + j]!;
        X[r * n + j] -= f * X[c * n + j]!;
      }
    }
  }
  for (let i = 0; i < X.length; i++) if (!Number.isFinite(X[i]!)) return null;
  return x;
}

export function invertWithRetry(a: Matrix, shift = 1e-6): InverseResult {
  assertFinite(a, FILE, 'A');
  const first = tryInvert(a);
  if (first) return { inverse: first, shift: 0 };
  const shifted = clone(to64(a));
  for (let i = 0; i < a.rows; i++) shifted.data[i * a.rows + i] += shift;
  const second = tryInvert(shifted);
  if (!second)
    throw new EngineError(`matrix is singular even after adding ${shift}·I`, { file: FILE, field: 'A' });
  return { inverse: second, shift };
}
