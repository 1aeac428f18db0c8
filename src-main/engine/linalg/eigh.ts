// Symmetric eigendecomposition (f64): Householder tridiagonalisation + implicit QL with Wilkinson-type
// shifts (the EISPACK tred2/tql2 pair, as in JAMA). The working matrix is kept transposed (T[j*n+k] =
// V[k][j]) so that the column sweeps of the algorithm stream contiguous memory. Those row loops run in a
// WebAssembly SIMD kernel (eigh-kernel.wat) whose memory holds the working matrix for the call.
import { EngineError } from '../errors';
import { EIGH_KERNEL_WASM } from './eigh-kernel';
import { type LanczosOptions, lanczosMinEigenvalue } from './lanczos';
import { assertFinite, assertSquare, type Matrix, type Matrix64, to64, transpose } from './matrix';
import { kernelModule } from './wasm-kernel';

const FILE = 'engine/linalg/eigh';

export interface Eigh {
  /** ascending */
  values: Float64Array;
  /** n×n, column j is the unit eigenvector of values[j]; absent when only values were asked for */
  vectors?: Matrix64;
}

/** working memory (matrix, d, e) above which the scalar JS loops run instead of the kernel */
export const EIGH_KERNEL_MAX_BYTES = 512 * 2 ** 20;

interface Kernel {
  rot(n: number, c: number, s: number, x: number, y: number): void;
  dotAxpy(n: number, v: number, d: number, e: number, f: number): number;
  rank2(n: number, t: number, e: number, d: number, f: number, g: number): void;
  reflect(n: number, x: number, y: number, z: number): void;
  /** byte offsets of T, d and e */
  at: { T: number; d: number; e: number };
}

interface Work {
  T: Float64Array;
  d: Float64Array;
  e: Float64Array;
  K: Kernel | null;
}

// a fresh instance per call: its memory (the n×n working matrix) is garbage when eigh returns
function workspace(n: number, maxBytes: number): Work {
  const bytes = (n * n + 2 * n) * 8;
  if (bytes > maxBytes)
    return { T: new Float64Array(n * n), d: new Float64Array(n), e: new Float64Array(n), K: null };
  const instance = new WebAssembly.Instance(kernelModule(EIGH_KERNEL_WASM, 'engine/linalg/eigh-kernel.wat'));
  const ex = instance.exports as unknown as Omit<Kernel, 'at'> & { memory: WebAssembly.Memory };
  const pages = Math.ceil(bytes / 65536) - ex.memory.buffer.byteLength / 65536;
  if (pages > 0) ex.memory.grow(pages);
  const at = { T: 0, d: n * n * 8, e: (n * n + n) * 8 };
  const buf = ex.memory.buffer;
  return {
    T: new Float64Array(buf, at.T, n * n),
    d: new Float64Array(buf, at.d, n),
    e: new Float64Array(buf, at.e, n),
    K: { rot: ex.rot, dotAxpy: ex.dotAxpy, rank2: ex.rank2, reflect: ex.reflect, at },
  };
}

export function eigh(
  a: Matrix,
  opts: { vectors?: boolean /** see EIGH_KERNEL_MAX_BYTES */; maxKernelBytes?: number } = {},
): Eigh {
  const wantV = opts.vectors ?? true;
  assertSquare(a, FILE, 'A');
  assertFinite(a, FILE, 'A');
  const n = a.rows;
  if (n === 0)
    return wantV ? { values: new Float64Array(0), vectors: to64(a) } : { values: new Float64Array(0) };
  // symmetrise (only the lower triangle would be read otherwise)
  const w = workspace(n, opts.maxKernelBytes ?? EIGH_KERNEL_MAX_BYTES);
  const { T, d } = w;
  const A = a.data;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) T[i * n + j] = 0.5 * (A[i * n + j]! + A[j * n + i]!);
  tred2(w, n, wantV);
  tql2(w, n, wantV);
  if (!wantV) return { values: d.slice() };
  // T rows are eigenvectors
  return { values: d.slice(), vectors: transpose({ rows: n, cols: n, data: T }) };
}

/**
 * above this n, minEigenvalue switches from the dense O(n³) eigenvalues to Lanczos (O(n²) per step).
 * Measured: dense 0.23 s at 512 and 1.6 s at 1024, against 0.27 s for 300 Lanczos steps at 1024 (a
 * calibration Gram's worst case), so the 1024-wide down-projection Grams of OLMoE go to Lanczos.
 */
export const EXACT_EIG_MAX_N = 512;

export interface MinEigenvalueOptions extends LanczosOptions {
  /** 'auto' (default): exact up to EXACT_EIG_MAX_N, Lanczos above */
  method?: 'auto' | 'exact' | 'lanczos';
}

export interface MinEigenvalueEstimate {
  value: number;
  /** 0 on the exact path; the Ritz residual on the Lanczos path (value ≥ λmin, within a few residuals) */
  residual: number;
  method: 'exact' | 'lanczos';
}

/** Smallest eigenvalue and how sure we are of it. */
export function estimateMinEigenvalue(a: Matrix, opts: MinEigenvalueOptions = {}): MinEigenvalueEstimate {
  const method = opts.method ?? 'auto';
  if (!['auto', 'exact', 'lanczos'].includes(method))
    throw new EngineError(`unknown method '${method}'; expected auto, exact or lanczos`, {
      file: FILE,
      field: 'method',
    });
  if (method === 'exact' || (method === 'auto' && a.rows <= EXACT_EIG_MAX_N)) {
    const { values } = eigh(a, { vectors: false });
    return { value: values.length ? values[0]! : Number.NaN, residual: 0, method: 'exact' };
  }
  assertFinite(a, FILE, 'A');
  const { value, residual } = lanczosMinEigenvalue(a, opts);
  return { value, residual, method: 'lanczos' };
}

/** Smallest eigenvalue only: dense eigenvalues (no vectors) for n ≤ EXACT_EIG_MAX_N, Lanczos above. */
export function minEigenvalue(a: Matrix, opts: MinEigenvalueOptions = {}): number {
  return estimateMinEigenvalue(a, opts).value;
}

// V[r][c] ≡ T[c*n + r]
function tred2({ T, d, e, K }: Work, n: number, wantV: boolean): void {
  const B = 8; // bytes per entry: kernel addresses
  for (let j = 0; j < n; j++) d[j] = T[j * n + (n - 1)]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = T[j * n + (i - 1)]!;
        T[j * n + i] = 0;
        T[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j]!;
        T[i * n + j] = f; // V[j][i]
        g = e[j]! + T[cj + j]! * f;
        if (K) {
          const k0 = j + 1;
          g += K.dotAxpy(i - k0, K.at.T + (cj + k0) * B, K.at.d + k0 * B, K.at.e + k0 * B, f);
        } else {
          for (let k = j + 1; k <= i - 1; k++) {
            const v = T[cj + k]!; // V[k][j]
            g += v * d[k]!;
            e[k] += v * f;
          }
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j]!;
        g = e[j]!;
        if (K) K.rank2(i - j, K.at.T + (cj + j) * B, K.at.e + j * B, K.at.d + j * B, f, g);
        else for (let k = j; k <= i - 1; k++) T[cj + k] -= f * e[k]! + g * d[k]!;
        d[j] = T[cj + (i - 1)]!;
        T[cj + i] = 0;
      }
    }
    d[i] = h;
  }
  if (!wantV) {
    // diagonal of the tridiagonal matrix sits on V's diagonal at this point
    for (let j = 0; j < n; j++) d[j] = T[j * n + j]!;
    e[0] = 0;
    return;
  }
  for (let i = 0; i < n - 1; i++) {
    const ci = i * n;
    const ci1 = (i + 1) * n;
    T[ci + (n - 1)] = T[ci + i]!;
    T[ci + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = T[ci1 + k]! / h;
      for (let j = 0; j <= i; j++) {
        const cj = j * n;
        if (K) {
          K.reflect(i + 1, K.at.T + ci1 * B, K.at.T + cj * B, K.at.d);
          continue;
        }
        let g = 0;
        for (let k = 0; k <= i; k++) g += T[ci1 + k]! * T[cj + k]!;
        for (let k = 0; k <= i; k++) T[cj + k] -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) T[ci1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = T[j * n + (n - 1)]!;
    T[j * n + (n - 1)] = 0;
  }
  T[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;
}

function tql2({ T, d, e, K }: Work, n: number, wantV: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60)
          throw new EngineError('eigenvalue iteration did not converge', { file: FILE, field: 'A' });
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (wantV && K) {
            K.rot(n, c, s, K.at.T + i * n * 8, K.at.T + (i + 1) * n * 8);
          } else if (wantV) {
            const ci = i * n;
            const ci1 = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const hk = T[ci1 + k]!;
              const vk = T[ci + k]!;
              T[ci1 + k] = s * vk + c * hk;
              T[ci + k] = c * vk - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // selection sort, ascending (n swaps at most, each a contiguous row swap)
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      if (wantV) {
        const ri = i * n;
        const rk = k * n;
        for (let j = 0; j < n; j++) {
          const t = T[ri + j]!;
          T[ri + j] = T[rk + j]!;
          T[rk + j] = t;
        }
      }
    }
  }
}
