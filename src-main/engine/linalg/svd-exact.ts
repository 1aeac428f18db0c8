// Exact thin SVD in f64: Golub–Kahan–Reinsch (Householder bidiagonalisation + implicit-shift QR on the
// bidiagonal; the LINPACK dsvdc algorithm as in JAMA). Every matrix that the algorithm sweeps by
// column is stored transposed, so inner loops are contiguous.
import { EngineError } from '../errors';
import { gemm64 } from './gemm64';
import { assertFinite, type Matrix, type Matrix64, to64, transpose, zeros64 } from './matrix';
import { householderQR } from './qr';

const FILE = 'engine/linalg/svd-exact';

export interface SVD<M extends Matrix = Matrix64> {
  /** m×k, orthonormal columns */
  U: M;
  /** k singular values, descending, ≥ 0 */
  S: Float64Array;
  /** k×n, orthonormal rows */
  Vt: M;
}

/** above this aspect ratio a Householder QR first (R-SVD) is cheaper than bidiagonalising A itself */
const QR_FIRST_ASPECT = 2;

/** Thin SVD A = U diag(S) Vt with k = min(m, n). */
export function svdExact(a: Matrix): SVD {
  assertFinite(a, FILE, 'A');
  if (a.rows < a.cols) {
    const t = svdTallOrQr(transpose(to64(a)));
    return { U: transpose(t.Vt), S: t.S, Vt: transpose(t.U) };
  }
  return svdTallOrQr(to64(a));
}

// A = Q R, R = U_R Σ Vᵀ ⇒ A = (Q U_R) Σ Vᵀ: the rotation-heavy QR iteration then runs on n-long
// vectors instead of m-long ones.
function svdTallOrQr(a: Matrix64): SVD {
  if (a.cols === 0 || a.rows < QR_FIRST_ASPECT * a.cols) return svdTall(a);
  const { Q, R } = householderQR(a);
  const inner = svdTall(R);
  const k = inner.U.cols;
  const u = zeros64(Q.rows, k);
  gemm64(
    Q.rows,
    k,
    Q.cols,
    1,
    { data: Q.data, offset: 0, ld: Q.cols },
    { data: inner.U.data, offset: 0, ld: k },
    { data: u.data, offset: 0, ld: k },
  );
  return { U: u, S: inner.S, Vt: inner.Vt };
}

// m ≥ n. A[i][j] ≡ At[j*m+i], U[i][j] ≡ Ut[j*m+i], V[i][j] ≡ Vs[j*n+i].
function svdTall(a: Matrix64): SVD {
  const m = a.rows;
  const n = a.cols;
  if (n === 0) return { U: zeros64(m, 0), S: new Float64Array(0), Vt: zeros64(0, 0) };
  const At = transpose(a).data;
  const nu = n;
  const s = new Float64Array(Math.min(m + 1, n));
  const Ut = new Float64Array(nu * m);
  const Vs = new Float64Array(n * n);
  const e = new Float64Array(n);
  const work = new Float64Array(m);
  const nct = Math.min(m - 1, n);
  const nrt = Math.max(0, Math.min(n - 2, m));
  for (let k = 0; k < Math.max(nct, nrt); k++) {
    const ck = k * m;
    if (k < nct) {
      let nrm = 0;
      for (let i = k; i < m; i++) nrm = Math.hypot(nrm, At[ck + i]!);
      if (nrm !== 0) {
        if (At[ck + k]! < 0) nrm = -nrm;
        for (let i = k; i < m; i++) At[ck + i] /= nrm;
        At[ck + k] += 1;
      }
      s[k] = -nrm;
    }
    for (let j = k + 1; j < n; j++) {
      const cj = j * m;
      if (k < nct && s[k] !== 0) {
        let t = 0;
        for (let i = k; i < m; i++) t += At[ck + i]! * At[cj + i]!;
        t = -t / At[ck + k]!;
        for (let i = k; i < m; i++) At[cj + i] += t * At[ck + i]!;
      }
      e[j] = At[cj + k]!;
    }
    if (k < nct) for (let i = k; i < m; i++) Ut[ck + i] = At[ck + i]!;
    if (k < nrt) {
      let nrm = 0;
      for (let i = k + 1; i < n; i++) nrm = Math.hypot(nrm, e[i]!);
      if (nrm !== 0) {
        if (e[k + 1]! < 0) nrm = -nrm;
        for (let i = k + 1; i < n; i++) e[i] /= nrm;
        e[k + 1] += 1;
      }
      e[k] = -nrm;
      if (k + 1 < m && nrm !== 0) {
        for (let i = k + 1; i < m; i++) work[i] = 0;
        for (let j = k + 1; j < n; j++) {
          const cj = j * m;
          const ej = e[j]!;
          for (let i = k + 1; i < m; i++) work[i] += ej * At[cj + i]!;
        }
        for (let j = k + 1; j < n; j++) {
          const cj = j * m;
          const t = -e[j]! / e[k + 1]!;
          for (let i = k + 1; i < m; i++) At[cj + i] += t * work[i]!;
        }
      }
      for (let i = k + 1; i < n; i++) Vs[k * n + i] = e[i]!;
    }
  }
  let p = Math.min(n, m + 1);
  if (nct < n) s[nct] = At[nct * m + nct]!;
  if (m < p) s[p - 1] = 0;
  if (nrt + 1 < p) e[nrt] = At[(p - 1) * m + nrt]!;
  e[p - 1] = 0;

  for (let j = nct; j < nu; j++) {
    Ut.fill(0, j * m, (j + 1) * m);
    Ut[j * m + j] = 1;
  }
  for (let k = nct - 1; k >= 0; k--) {
    const ck = k * m;
    if (s[k] !== 0) {
      for (let j = k + 1; j < nu; j++) {
        const cj = j * m;
        let t = 0;
        for (let i = k; i < m; i++) t += Ut[ck + i]! * Ut[cj + i]!;
        t = -t / Ut[ck + k]!;
        for (let i = k; i < m; i++) Ut[cj + i] += t * Ut[ck + i]!;
      }
      for (let i = k; i < m; i++) Ut[ck + i] = -Ut[ck + i]!;
      Ut[ck + k] = 1 + Ut[ck + k]!;
      for (let i = 0; i < k - 1; i++) Ut[ck + i] = 0;
    } else {
      Ut.fill(0, ck, ck + m);
      Ut[ck + k] = 1;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const ck = k * n;
    if (k < nrt && e[k] !== 0) {
      for (let j = k + 1; j < nu; j++) {
        const cj = j * n;
        let t = 0;
        for (let i = k + 1; i < n; i++) t += Vs[ck + i]! * Vs[cj + i]!;
        t = -t / Vs[ck + k + 1]!;
        for (let i = k + 1; i < n; i++) Vs[cj + i] += t * Vs[ck + i]!;
      }
    }
    Vs.fill(0, ck, ck + n);
    Vs[ck + k] = 1;
  }

  const rotate = (M: Float64Array, len: number, cj: number, ck: number, cs: number, sn: number) => {
    for (let i = 0; i < len; i++) {
      const x = M[cj + i]!;
      const y = M[ck + i]!;
      M[cj + i] = cs * x + sn * y;
      M[ck + i] = -sn * x + cs * y;
    }
  };

  const pp = p - 1;
  let iter = 0;
  const eps = 2 ** -52;
  const tiny = 2 ** -966;
  while (p > 0) {
    if (iter > 75) throw new EngineError('SVD iteration did not converge', { file: FILE, field: 'A' });
    let k: number;
    let kase: number;
    for (k = p - 2; k >= -1; k--) {
      if (k === -1) break;
      if (Math.abs(e[k]!) <= tiny + eps * (Math.abs(s[k]!) + Math.abs(s[k + 1]!))) {
        e[k] = 0;
        break;
      }
    }
    if (k === p - 2) {
      kase = 4;
    } else {
      let ks: number;
      for (ks = p - 1; ks >= k; ks--) {
        if (ks === k) break;
        const t = (ks !== p ? Math.abs(e[ks]!) : 0) + (ks !== k + 1 ? Math.abs(e[ks - 1]!) : 0);
        if (Math.abs(s[ks]!) <= tiny + eps * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks === k) kase = 3;
      else if (ks === p - 1) kase = 1;
      else {
        kase = 2;
        k = ks;
      }
    }
    k++;
    switch (kase) {
      case 1: {
        let f = e[p - 2]!;
        e[p - 2] = 0;
        for (let j = p - 2; j >= k; j--) {
          const t = Math.hypot(s[j]!, f);
          const cs = s[j]! / t;
          const sn = f / t;
          s[j] = t;
          if (j !== k) {
            f = -sn * e[j - 1]!;
            e[j - 1] = cs * e[j - 1]!;
          }
          rotate(Vs, n, j * n, (p - 1) * n, cs, sn);
        }
        break;
      }
      case 2: {
        let f = e[k - 1]!;
        e[k - 1] = 0;
        for (let j = k; j < p; j++) {
          const t = Math.hypot(s[j]!, f);
          const cs = s[j]! / t;
          const sn = f / t;
          s[j] = t;
          f = -sn * e[j]!;
          e[j] = cs * e[j]!;
          rotate(Ut, m, j * m, (k - 1) * m, cs, sn);
        }
        break;
      }
      case 3: {
        const scale = Math.max(
          Math.abs(s[p - 1]!),
          Math.abs(s[p - 2]!),
          Math.abs(e[p - 2]!),
          Math.abs(s[k]!),
          Math.abs(e[k]!),
        );
        const sp = s[p - 1]! / scale;
        const spm1 = s[p - 2]! / scale;
        const epm1 = e[p - 2]! / scale;
        const sk = s[k]! / scale;
        const ek = e[k]! / scale;
        const b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
        const c = sp * epm1 * (sp * epm1);
        let shift = 0;
        if (b !== 0 || c !== 0) {
          shift = Math.sqrt(b * b + c);
          if (b < 0) shift = -shift;
          shift = c / (b + shift);
        }
        let f = (sk + sp) * (sk - sp) + shift;
        let g = sk * ek;
        for (let j = k; j < p - 1; j++) {
          let t = Math.hypot(f, g);
          let cs = f / t;
          let sn = g / t;
          if (j !== k) e[j - 1] = t;
          f = cs * s[j]! + sn * e[j]!;
          e[j] = cs * e[j]! - sn * s[j]!;
          g = sn * s[j + 1]!;
          s[j + 1] = cs * s[j + 1]!;
          rotate(Vs, n, j * n, (j + 1) * n, cs, sn);
          t = Math.hypot(f, g);
          cs = f / t;
          sn = g / t;
          s[j] = t;
          f = cs * e[j]! + sn * s[j + 1]!;
          s[j + 1] = -sn * e[j]! + cs * s[j + 1]!;
          g = sn * e[j + 1]!;
          e[j + 1] = cs * e[j + 1]!;
          if (j < m - 1) rotate(Ut, m, j * m, (j + 1) * m, cs, sn);
        }
        e[p - 2] = f;
        iter++;
        break;
      }
      default: {
        if (s[k]! <= 0) {
          s[k] = s[k]! < 0 ? -s[k]! : 0;
          for (let i = 0; i <= pp; i++) Vs[k * n + i] = -Vs[k * n + i]!;
        }
        while (k < pp) {
          if (s[k]! >= s[k + 1]!) break;
          const t = s[k]!;
          s[k] = s[k + 1]!;
          s[k + 1] = t;
          if (k < n - 1) swapRows(Vs, n, k, k + 1);
          if (k < m - 1) swapRows(Ut, m, k, k + 1);
          k++;
        }
        iter = 0;
        p--;
      }
    }
  }
  return {
    U: transpose({ rows: nu, cols: m, data: Ut }),
    S: s.slice(0, n),
    Vt: { rows: n, cols: n, data: Vs },
  };
}

function swapRows(M: Float64Array, len: number, a: number, b: number): void {
  const ra = a * len;
  const rb = b * len;
  for (let i = 0; i < len; i++) {
    const t = M[ra + i]!;
    M[ra + i] = M[rb + i]!;
    M[rb + i] = t;
  }
}
