// Householder QR (f64) with thin Q. Works on the transpose so that each column of A is a contiguous
// row: reflector application and Q accumulation then stream memory. Rank-deficient input is fine:
// a zero column gets no reflector and Q stays orthonormal.
import { type Matrix, type Matrix64, to64, transpose, zeros64 } from './matrix';

export interface QR {
  /** m×k with orthonormal columns, k = min(m, n) */
  Q: Matrix64;
  /** k×n upper triangular (upper trapezoidal when n > m) */
  R: Matrix64;
}

export function householderQR(a: Matrix): QR {
  const m = a.rows;
  const n = a.cols;
  const k = Math.min(m, n);
  const at = transpose(to64(a)); // n×m: row j = column j of A
  const T = at.data;
  const betas = new Float64Array(k); // 0 marks "no reflector"
  const diag = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const rc = c * m;
    let norm2 = 0;
    for (let i = c; i < m; i++) norm2 += T[rc + i]! * T[rc + i]!;
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      diag[c] = 0;
      continue;
    }
    const x0 = T[rc + c]!;
    const alpha = x0 > 0 ? -norm : norm;
    T[rc + c] = x0 - alpha; // v stored in place of the column
    const beta = norm2 - x0 * x0 + (x0 - alpha) * (x0 - alpha);
    betas[c] = beta;
    diag[c] = alpha;
    for (let j = c + 1; j < n; j++) {
      const rj = j * m;
      let dot = 0;
      for (let i = c; i < m; i++) dot += T[rc + i]! * T[rj + i]!;
      const t = (2 * dot) / beta;
      for (let i = c; i < m; i++) T[rj + i] -= t * T[rc + i]!;
    }
  }
  const r = zeros64(k, n);
  for (let i = 0; i < k; i++) {
    r.data[i * n + i] = diag[i]!;
    for (let j = i + 1; j < n; j++) r.data[i * n + j] = T[j * m + i]!;
  }
  // Qᵀ rows = columns of Q; Q = H_0 … H_{k-1} [I; 0], applied from the last reflector
  const qt = zeros64(k, m);
  const Qt = qt.data;
  for (let i = 0; i < k; i++) Qt[i * m + i] = 1;
  for (let c = k - 1; c >= 0; c--) {
    const beta = betas[c]!;
    if (beta === 0) continue;
    const rc = c * m;
    for (let j = c; j < k; j++) {
      const qj = j * m;
      let dot = 0;
      for (let i = c; i < m; i++) dot += T[rc + i]! * Qt[qj + i]!;
      if (dot === 0) continue;
      const t = (2 * dot) / beta;
      for (let i = c; i < m; i++) Qt[qj + i] -= t * T[rc + i]!;
    }
  }
  return { Q: transpose(qt), R: r };
}
