// The blocked f64 kernels: the packed GEMM against a triple loop, the blocked Cholesky and triangular
// inverse against their unblocked forms and through their identities at sizes that span several
// blocks (and are not multiples of the block), and Lanczos λmin against the dense eigenvalues.
import { describe, expect, it } from 'vitest';
import { CHOLESKY_BLOCK, tryCholesky } from '../../src-main/engine/linalg/cholesky';
import { eigh, estimateMinEigenvalue } from '../../src-main/engine/linalg/eigh';
import { type GemmOperand, gemm64 } from '../../src-main/engine/linalg/gemm64';
import { lanczosMinEigenvalue } from '../../src-main/engine/linalg/lanczos';
import { matmul64 } from '../../src-main/engine/linalg/matmul';
import {
  frobeniusNorm,
  identity64,
  type Matrix64,
  subtract,
  transpose,
  zeros64,
} from '../../src-main/engine/linalg/matrix';
import { choleskyRepaired } from '../../src-main/engine/linalg/pd-repair';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { householderQR } from '../../src-main/engine/linalg/qr';
import {
  solveLower,
  solveUpper,
  TRIANGULAR_BLOCK,
  tryInvertLower,
} from '../../src-main/engine/linalg/triangular';

function gaussian(m: number, n: number, seed: number): Matrix64 {
  const rng = xoshiro128ss(seed);
  const a = zeros64(m, n);
  for (let i = 0; i < a.data.length; i++) a.data[i] = rng.gaussian();
  return a;
}
const rel = (a: Matrix64, b: Matrix64) => frobeniusNorm(subtract(a, b)) / frobeniusNorm(b);

/** X Xᵀ / k + δ·I: δ = 1 is well conditioned; k < n with δ = 1e-6 is the repaired calibration Gram (κ ≈ 1e9) */
function gram(n: number, k: number, delta: number, seed: number): Matrix64 {
  const x = gaussian(n, k, seed);
  const g = matmul64(x, transpose(x));
  for (let i = 0; i < g.data.length; i++) g.data[i]! /= k;
  for (let i = 0; i < n; i++) g.data[i * n + i] += delta;
  return g;
}

describe('gemm64', () => {
  // C block at an offset inside a wider array, A and B read through offsets and leading dimensions
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])(
    'transA=%s transB=%s equals the triple loop (odd sizes, offsets, ld > width, several panels)',
    (ta, tb) => {
      const [m, n, k] = [101, 67, 300]; // k > KC (256) and m > MC (96): more than one packed block each way
      const rng = xoshiro128ss(7);
      const fill = (len: number) => Float64Array.from({ length: len }, () => rng.gaussian());
      const lda = (ta ? m : k) + 5;
      const ldb = (tb ? k : n) + 3;
      const ldc = n + 9;
      const a: GemmOperand = { data: fill(3 + lda * (ta ? k : m)), offset: 3, ld: lda, trans: ta };
      const b: GemmOperand = { data: fill(2 + ldb * (tb ? n : k)), offset: 2, ld: ldb, trans: tb };
      const c = fill(4 + ldc * m);
      const expected = c.slice();
      const opA = (i: number, p: number) => a.data[a.offset + (ta ? p * lda + i : i * lda + p)]!;
      const opB = (p: number, j: number) => b.data[b.offset + (tb ? j * ldb + p : p * ldb + j)]!;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += opA(i, p) * opB(p, j);
          expected[4 + i * ldc + j] += -0.5 * s;
        }
      gemm64(m, n, k, -0.5, a, b, { data: c, offset: 4, ld: ldc });
      let worst = 0;
      for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-12);
      // entries outside the m×n block (padding columns, the leading offset) are untouched
      for (let i = 0; i < 4; i++) expect(c[i]).toBe(expected[i]);
      for (let i = 0; i < m; i++)
        for (let j = n; j < ldc && 4 + i * ldc + j < c.length; j++)
          expect(c[4 + i * ldc + j]).toBe(expected[4 + i * ldc + j]);
    },
  );
});

describe('blocked Cholesky and triangular inverse', () => {
  it('block sizes are what the sizes below exercise', () => {
    expect(CHOLESKY_BLOCK).toBe(128);
    expect(TRIANGULAR_BLOCK).toBe(128);
  });

  it.each([
    [300, 1],
    [300, 37],
    [257, 128],
  ])('n=%i, block %i: equals the unblocked factor within 1e-12 and ‖L·Lᵀ − G‖/‖G‖ < 1e-14', (n, nb) => {
    const g = gram(n, n + 20, 1, n + nb);
    const blocked = tryCholesky(g, { blockSize: nb })!;
    const reference = tryCholesky(g, { blockSize: n })!;
    expect(rel(blocked, reference)).toBeLessThan(1e-12);
    expect(rel(matmul64(blocked, transpose(blocked)), g)).toBeLessThan(1e-14);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(blocked.data[i * n + j]).toBe(0);
  });

  it('ill-conditioned repaired Gram (rank 120 of 300, +1e-6·I, κ ≈ 1e9): factor and inverse keep f64 accuracy', () => {
    const n = 300;
    const g = gram(n, 120, 1e-6, 5);
    const l = tryCholesky(g)!;
    expect(rel(matmul64(l, transpose(l)), g)).toBeLessThan(1e-14);
    expect(rel(l, tryCholesky(g, { blockSize: n })!)).toBeLessThan(1e-10);
    const inv = tryInvertLower(l)!;
    // κ(L) ≈ 3e4, so ε·κ·√n ≈ 1e-10 bounds the identity error; f32 products would give ~1e-2
    expect(frobeniusNorm(subtract(matmul64(l, inv), identity64(n))) / Math.sqrt(n)).toBeLessThan(1e-9);
    expect(rel(inv, tryInvertLower(l, { blockSize: n })!)).toBeLessThan(1e-9);
  });

  it.each([
    [300, 128],
    [300, 7],
    [129, 128],
  ])('n=%i, block %i: L⁻¹ equals the unblocked inverse within 1e-12 and ‖L·L⁻¹ − I‖/√n < 1e-13', (n, nb) => {
    const l = tryCholesky(gram(n, n + 20, 1, 11))!;
    const inv = tryInvertLower(l, { blockSize: nb })!;
    expect(rel(inv, tryInvertLower(l, { blockSize: n })!)).toBeLessThan(1e-12);
    expect(frobeniusNorm(subtract(matmul64(l, inv), identity64(n))) / Math.sqrt(n)).toBeLessThan(1e-13);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(inv.data[i * n + j]).toBe(0);
  });

  it('blocked solves: L·X = B and Lᵀ·X = B residuals, equal to the unblocked solves', () => {
    const n = 300;
    const l = tryCholesky(gram(n, n + 20, 1, 13))!;
    const u = transpose(l);
    const b = gaussian(n, 45, 14);
    const x = solveLower(l, b, { blockSize: 64 });
    expect(rel(matmul64(l, x), b)).toBeLessThan(1e-13);
    expect(rel(x, solveLower(l, b, { blockSize: n }))).toBeLessThan(1e-12);
    const y = solveUpper(u, b, { blockSize: 64 });
    expect(rel(matmul64(u, y), b)).toBeLessThan(1e-13);
    expect(rel(y, solveUpper(u, b, { blockSize: n }))).toBeLessThan(1e-12);
  });

  it('a non-positive-definite matrix is refused in a later block, not only the first', () => {
    const n = 300;
    const g = gram(n, n + 20, 1, 15);
    g.data[250 * n + 250] = -1;
    expect(tryCholesky(g)).toBeNull();
  });
});

describe('Lanczos smallest eigenvalue', () => {
  // A = Q diag(λ) Qᵀ with a known spectrum: λmin = −0.25 isolated below [1, 10]
  function knownSpectrum(n: number, lambdaMin: number): Matrix64 {
    const { Q } = householderQR(gaussian(n, n, 21));
    const lam = Float64Array.from({ length: n }, (_, i) => (i === 0 ? lambdaMin : 1 + (9 * i) / (n - 1)));
    const a = zeros64(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < n; p++) s += Q.data[i * n + p]! * lam[p]! * Q.data[j * n + p]!;
        a.data[i * n + j] = s;
      }
    return a;
  }

  it('finds λmin = −0.25 of a 200×200 matrix to 1e-8, from above, and agrees with eigh', () => {
    const a = knownSpectrum(200, -0.25);
    const res = lanczosMinEigenvalue(a);
    const exact = eigh(a, { vectors: false }).values[0]!;
    expect(Math.abs(exact + 0.25)).toBeLessThan(1e-12);
    expect(Math.abs(res.value - exact)).toBeLessThan(1e-8);
    expect(res.value).toBeGreaterThanOrEqual(exact - 1e-12);
    expect(res.residual).toBeLessThan(1e-6);
    expect(res.iterations).toBeLessThan(200);
    const est = estimateMinEigenvalue(a, { method: 'lanczos' });
    expect(est.method).toBe('lanczos');
    expect(Math.abs(est.value - exact)).toBeLessThan(1e-8);
  });

  it('the shift repair through a Lanczos estimate factors a singular Gram and reports the shift it used', () => {
    const n = 200;
    const x = gaussian(n, 60, 22);
    const g = matmul64(x, transpose(x)); // rank 60: λmin = 0 up to rounding
    const { L, repair } = choleskyRepaired(g, 'shift-all', { eig: { method: 'lanczos' } });
    expect(repair.eigenvalueMethod).toBe('lanczos');
    expect(repair.applied).toBe(true);
    const shifted = g.data.slice();
    for (let i = 0; i < n; i++) shifted[i * n + i] += repair.shift!;
    expect(rel(matmul64(L, transpose(L)), { rows: n, cols: n, data: shifted })).toBeLessThan(1e-13);
  });
});
