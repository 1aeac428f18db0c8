import { describe, expect, it } from 'vitest';
import { cholesky, tryCholesky } from '../../src-main/engine/linalg/cholesky';
import { eigh, minEigenvalue } from '../../src-main/engine/linalg/eigh';
import { invertWithRetry, tryInvert } from '../../src-main/engine/linalg/inverse';
import { matmul64 } from '../../src-main/engine/linalg/matmul';
import {
  frobeniusNorm,
  fromRows,
  identity64,
  type Matrix,
  type Matrix64,
  subtract,
  transpose,
  zeros64,
} from '../../src-main/engine/linalg/matrix';
import { choleskyRepaired } from '../../src-main/engine/linalg/pd-repair';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { householderQR } from '../../src-main/engine/linalg/qr';
import { svdExact } from '../../src-main/engine/linalg/svd-exact';
import { invertLowerWithRetry, solveLower, solveUpper } from '../../src-main/engine/linalg/triangular';

function gaussian(m: number, n: number, seed: number): Matrix64 {
  const rng = xoshiro128ss(seed);
  const a = zeros64(m, n);
  for (let i = 0; i < a.data.length; i++) a.data[i] = rng.gaussian();
  return a;
}
const relErr = (a: Matrix, b: Matrix) => frobeniusNorm(subtract(a, b)) / Math.max(frobeniusNorm(b), 1e-300);
const orthErr = (q: Matrix) => frobeniusNorm(subtract(matmul64(transpose(q), q), identity64(q.cols)));
function usv(U: Matrix, S: Float64Array, Vt: Matrix): Matrix64 {
  const us = zeros64(U.rows, S.length);
  for (let i = 0; i < U.rows; i++)
    for (let j = 0; j < S.length; j++) us.data[i * S.length + j] = U.data[i * U.cols + j]! * S[j]!;
  return matmul64(us, Vt);
}

describe('Householder QR', () => {
  it.each([
    [30, 12],
    [12, 30],
    [25, 25],
  ])('A = QR with orthonormal Q and upper R (%i×%i)', (m, n) => {
    const a = gaussian(m, n, 1);
    const { Q, R } = householderQR(a);
    expect(relErr(matmul64(Q, R), a)).toBeLessThan(1e-14);
    expect(orthErr(Q)).toBeLessThan(1e-13);
    for (let i = 0; i < R.rows; i++)
      for (let j = 0; j < Math.min(i, R.cols); j++) expect(R.data[i * R.cols + j]).toBe(0);
  });
  it('keeps Q orthonormal for rank-deficient and zero input', () => {
    const a = gaussian(20, 6, 2);
    for (let i = 0; i < 20; i++) a.data[i * 6 + 3] = a.data[i * 6 + 1]! * 2; // column 3 = 2·column 1
    expect(orthErr(householderQR(a).Q)).toBeLessThan(1e-13);
    const z = householderQR(zeros64(8, 4));
    expect(orthErr(z.Q)).toBeLessThan(1e-15);
    expect(frobeniusNorm(z.R)).toBe(0);
  });
});

describe('eigh', () => {
  it('solves a known 2×2 and 3×3 exactly', () => {
    const { values } = eigh(
      fromRows([
        [2, 1],
        [1, 2],
      ]),
    );
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    const d = eigh(
      fromRows([
        [2, 0, 0],
        [0, -1, 0],
        [0, 0, 5],
      ]),
    );
    expect(Array.from(d.values)).toEqual([-1, 2, 5]);
  });
  it('gives ascending eigenpairs with A v = λ v and orthonormal V (n=60, indefinite)', () => {
    const b = gaussian(60, 60, 3);
    const a = matmul64(b, transpose(b));
    for (let i = 0; i < 60; i++) a.data[i * 61] -= 40; // make it indefinite
    const { values, vectors } = eigh(a);
    for (let i = 1; i < 60; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
    const av = matmul64(a, vectors!);
    const vl = zeros64(60, 60);
    for (let i = 0; i < 60; i++)
      for (let j = 0; j < 60; j++) vl.data[i * 60 + j] = vectors!.data[i * 60 + j]! * values[j]!;
    expect(relErr(av, vl)).toBeLessThan(1e-13);
    expect(orthErr(vectors!)).toBeLessThan(1e-13);
    expect(values[0]).toBeLessThan(0);
    expect(minEigenvalue(a)).toBeCloseTo(values[0]!, 10);
  });
  it('handles the zero matrix and repeated eigenvalues', () => {
    const z = eigh(zeros64(5, 5));
    expect(Array.from(z.values)).toEqual([0, 0, 0, 0, 0]);
    expect(orthErr(z.vectors!)).toBeLessThan(1e-15);
    const i3 = eigh(identity64(4));
    expect(Array.from(i3.values)).toEqual([1, 1, 1, 1]);
  });
  it('the WebAssembly kernel and the JS loops agree (odd n: the SIMD pairs leave scalar tails)', () => {
    const b = gaussian(61, 61, 8);
    const a = matmul64(b, transpose(b));
    for (let i = 0; i < 61; i++) a.data[i * 62] -= 30;
    const wasm = eigh(a);
    const js = eigh(a, { maxKernelBytes: 0 });
    for (let i = 0; i < 61; i++) expect(Math.abs(wasm.values[i]! - js.values[i]!)).toBeLessThan(1e-12);
    // eigenvectors up to sign
    for (let j = 0; j < 61; j++) {
      const sign = Math.sign(wasm.vectors!.data[j]! * js.vectors!.data[j]!) || 1;
      for (let i = 0; i < 61; i++)
        expect(Math.abs(wasm.vectors!.data[i * 61 + j]! - sign * js.vectors!.data[i * 61 + j]!)).toBeLessThan(
          1e-10,
        );
    }
    expect(Array.from(eigh(a, { vectors: false }).values)).toEqual(Array.from(wasm.values));
  });
});

describe('exact SVD', () => {
  it.each([
    [40, 25],
    [25, 40],
    [30, 30],
    [1, 7],
  ])('reconstructs, orthonormal, descending (%i×%i)', (m, n) => {
    const a = gaussian(m, n, 4);
    const { U, S, Vt } = svdExact(a);
    const k = Math.min(m, n);
    expect(S.length).toBe(k);
    expect(relErr(usv(U, S, Vt), a)).toBeLessThan(1e-13);
    expect(orthErr(U)).toBeLessThan(1e-13);
    expect(orthErr(transpose(Vt))).toBeLessThan(1e-13);
    for (let i = 1; i < k; i++) expect(S[i]).toBeLessThanOrEqual(S[i - 1]!);
  });
  it('recovers prescribed singular values to 1e-12 relative', () => {
    const { Q: q1 } = householderQR(gaussian(50, 20, 5));
    const { Q: q2 } = householderQR(gaussian(30, 20, 6));
    const sigma = Float64Array.from({ length: 20 }, (_, i) => 10 * 0.8 ** i);
    const a = usv(q1, sigma, transpose(q2));
    const { S } = svdExact(a);
    for (let i = 0; i < 20; i++) expect(Math.abs(S[i]! - sigma[i]!) / sigma[i]!).toBeLessThan(1e-12);
  });
  it('handles rank-deficient and zero matrices', () => {
    const b = gaussian(30, 3, 7);
    const a = matmul64(b, gaussian(3, 20, 8)); // rank 3
    const { U, S, Vt } = svdExact(a);
    expect(S[3]! / S[0]!).toBeLessThan(1e-14);
    expect(relErr(usv(U, S, Vt), a)).toBeLessThan(1e-13);
    expect(orthErr(U)).toBeLessThan(1e-12);
    const z = svdExact(zeros64(6, 4));
    expect(Array.from(z.S)).toEqual([0, 0, 0, 0]);
    expect(orthErr(z.U)).toBeLessThan(1e-15);
  });
});

describe('Cholesky, repairs, triangular solves and inverses', () => {
  const spd = (n: number, seed: number) => {
    const b = gaussian(n, n, seed);
    const g = matmul64(b, transpose(b));
    for (let i = 0; i < n; i++) g.data[i * n + i] += n;
    return g;
  };
  it('L Lᵀ = G with L lower', () => {
    const g = spd(40, 9);
    const l = cholesky(g);
    expect(relErr(matmul64(l, transpose(l)), g)).toBeLessThan(1e-14);
    for (let i = 0; i < 40; i++) for (let j = i + 1; j < 40; j++) expect(l.data[i * 40 + j]).toBe(0);
  });
  it('rejects a non-PD matrix without repair', () => {
    expect(
      tryCholesky(
        fromRows([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toBeNull();
    expect(() =>
      cholesky(
        fromRows([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toThrow(/not positive definite/);
    expect(() =>
      choleskyRepaired(
        fromRows([
          [1, 2],
          [2, 1],
        ]),
        'none',
      ),
    ).toThrow(/not positive definite/);
  });
  it('leaves a PD matrix untouched in every variant', () => {
    const g = spd(20, 10);
    for (const v of ['shift-min-eig', 'clamp-eig', 'shift-all'] as const) {
      const { L, repair } = choleskyRepaired(g, v);
      expect(repair.applied).toBe(false);
      expect(relErr(matmul64(L, transpose(L)), g)).toBeLessThan(1e-14);
    }
  });
  it('repairs a singular Gram (rank 5 of 30) and an indefinite matrix, reporting what it did', () => {
    const x = gaussian(5, 30, 11);
    const singular = matmul64(transpose(x), x);
    const indefinite = fromRows([
      [1, 2, 0],
      [2, 1, 0],
      [0, 0, 3],
    ]); // λ = −1, 3, 3
    for (const g of [singular, indefinite]) {
      const a = choleskyRepaired(g, 'shift-min-eig');
      expect(a.repair.applied).toBe(true);
      expect(a.repair.shift).toBeCloseTo(-a.repair.minEigenvalue! + 1e-6, 12);
      const b = choleskyRepaired(g, 'clamp-eig');
      expect(b.repair.applied).toBe(true);
      expect(b.repair.clamped).toBeGreaterThan(0);
      const c = choleskyRepaired(g, 'shift-all');
      expect(c.repair.applied).toBe(true);
      expect(c.repair.shift).toBeCloseTo(Math.max(0, -c.repair.minEigenvalue!) + 1e-6, 12);
      for (const { L } of [a, b, c]) expect(minEigenvalue(matmul64(L, transpose(L)))).toBeGreaterThan(0);
    }
    // clamp-eig keeps the positive eigenvalues and lifts −1 to 1e-5
    const { L } = choleskyRepaired(indefinite, 'clamp-eig');
    const vals = eigh(matmul64(L, transpose(L))).values;
    expect(vals[0]).toBeCloseTo(1e-5, 10);
    expect(vals[2]).toBeCloseTo(3, 12);
    // shift-all moves every eigenvalue by |λmin| + tol
    const s = choleskyRepaired(indefinite, 'shift-all').L;
    expect(eigh(matmul64(s, transpose(s))).values[0]).toBeCloseTo(1e-6, 10);
  });
  it('solves triangular systems and inverts, with the +1e-6·I retry on singular input', () => {
    const l = cholesky(spd(25, 12));
    const b = gaussian(25, 4, 13);
    expect(relErr(matmul64(l, solveLower(l, b)), b)).toBeLessThan(1e-13);
    const u = transpose(l);
    expect(relErr(matmul64(u, solveUpper(u, b)), b)).toBeLessThan(1e-13);
    const { inverse, shift } = invertLowerWithRetry(l);
    expect(shift).toBe(0);
    expect(relErr(matmul64(inverse, l), identity64(25))).toBeLessThan(1e-13);
    const sing = fromRows([
      [1, 0],
      [3, 0],
    ]);
    const r = invertLowerWithRetry(sing);
    expect(r.shift).toBe(1e-6);
    expect(
      relErr(
        matmul64(
          r.inverse,
          fromRows([
            [1 + 1e-6, 0],
            [3, 1e-6],
          ]),
        ),
        identity64(2),
      ),
    ).toBeLessThan(1e-9);
    const g = gaussian(15, 15, 14);
    const gi = invertWithRetry(g);
    expect(gi.shift).toBe(0);
    expect(relErr(matmul64(g, gi.inverse), identity64(15))).toBeLessThan(1e-12);
    expect(tryInvert(zeros64(3, 3))).toBeNull();
    expect(invertWithRetry(zeros64(3, 3)).inverse.data[0]).toBeCloseTo(1e6, 3);
  });
});
