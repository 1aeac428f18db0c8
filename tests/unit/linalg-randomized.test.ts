import { beforeAll, describe, expect, it } from 'vitest';
import { matmul64 } from '../../src-main/engine/linalg/matmul';
import {
  frobeniusNorm,
  identity64,
  type Matrix,
  type Matrix64,
  subtract,
  transpose,
  zeros64,
} from '../../src-main/engine/linalg/matrix';
import { orthonormalizeTf, wellConditionedBasisTf } from '../../src-main/engine/linalg/orthonormalize';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { householderQR } from '../../src-main/engine/linalg/qr';
import { svdExact } from '../../src-main/engine/linalg/svd-exact';
import { svdRandomized } from '../../src-main/engine/linalg/svd-randomized';
import { chooseSvdMethod, svdTruncated } from '../../src-main/engine/linalg/svd-truncated';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

beforeAll(async () => {
  await initBackend();
});

function gaussian(m: number, n: number, seed: number): Matrix64 {
  const rng = xoshiro128ss(seed);
  const a = zeros64(m, n);
  for (let i = 0; i < a.data.length; i++) a.data[i] = rng.gaussian();
  return a;
}
function usv(U: Matrix, S: Float64Array, Vt: Matrix): Matrix64 {
  const us = zeros64(U.rows, S.length);
  for (let i = 0; i < U.rows; i++)
    for (let j = 0; j < S.length; j++) us.data[i * S.length + j] = U.data[i * U.cols + j]! * S[j]!;
  return matmul64(us, Vt);
}
const orthErr = (q: Matrix) => frobeniusNorm(subtract(matmul64(transpose(q), q), identity64(q.cols)));
/** m×n with singular values σ_i = decay^i (random orthonormal singular vectors) */
function decaying(m: number, n: number, decay: number, seed: number): { a: Matrix64; sigma: Float64Array } {
  const k = Math.min(m, n);
  const sigma = Float64Array.from({ length: k }, (_, i) => decay ** i);
  const { Q: u } = householderQR(gaussian(m, k, seed));
  const { Q: v } = householderQR(gaussian(n, k, seed + 1));
  return { a: usv(u, sigma, transpose(v)), sigma };
}

describe('randomized truncated SVD (tolerances: top-r σ within 1e-3 relative, error ≤ 1.01 × optimal)', () => {
  it.each([
    [300, 200, 20],
    [200, 300, 20],
    [256, 256, 40],
  ])('%i×%i rank %i on σ_i = 0.9^i', (m, n, r) => {
    const { a, sigma } = decaying(m, n, 0.9, 21);
    const { U, S, Vt } = svdRandomized(a, r, { seed: 5 });
    expect(U.data).toBeInstanceOf(Float32Array);
    expect([U.rows, U.cols, S.length, Vt.rows, Vt.cols]).toEqual([m, r, r, r, n]);
    for (let i = 0; i < r; i++) expect(Math.abs(S[i]! - sigma[i]!) / sigma[i]!).toBeLessThan(1e-3);
    for (let i = 1; i < r; i++) expect(S[i]).toBeLessThanOrEqual(S[i - 1]!);
    const optimal = sigma.slice(r).reduce((s, v) => s + v * v, 0);
    const err = frobeniusNorm(subtract(usv(U, S, Vt), a)) ** 2;
    expect(err).toBeLessThan(1.01 * optimal);
    expect(orthErr(U)).toBeLessThan(1e-5);
    expect(orthErr(transpose(Vt))).toBeLessThan(1e-5);
  });
  it('is deterministic for a seed and different across seeds', () => {
    const { a } = decaying(120, 90, 0.95, 22);
    const x = svdRandomized(a, 10, { seed: 1, powerIters: 0 });
    const y = svdRandomized(a, 10, { seed: 1, powerIters: 0 });
    const z = svdRandomized(a, 10, { seed: 2, powerIters: 0 });
    expect(Array.from(x.S)).toEqual(Array.from(y.S));
    expect(Array.from(x.S)).not.toEqual(Array.from(z.S));
  });
  it('handles a zero matrix and a rank-deficient matrix (Householder fallback keeps Q orthonormal)', () => {
    const z = svdRandomized(zeros64(150, 140), 8);
    expect(Array.from(z.S).every((s) => s === 0)).toBe(true);
    expect(z.ortho[0]).toBe('householder');
    const low = matmul64(gaussian(150, 3, 23), gaussian(3, 140, 24)); // rank 3, sketch of 18 columns
    const { U, S, Vt } = svdRandomized(low, 8);
    const exact = svdExact(low).S;
    for (let i = 0; i < 3; i++) expect(Math.abs(S[i]! - exact[i]!) / exact[i]!).toBeLessThan(1e-4);
    expect(S[3]! / S[0]!).toBeLessThan(1e-5);
    expect(frobeniusNorm(subtract(usv(U, S, Vt), low)) / frobeniusNorm(low)).toBeLessThan(1e-5);
    expect(orthErr(U)).toBeLessThan(1e-5);
  });
  it('leaves no tfjs tensors behind (CholQR2 and Householder paths)', () => {
    const before = tf.memory().numTensors;
    svdRandomized(decaying(100, 80, 0.9, 28).a, 10);
    svdRandomized(zeros64(60, 50), 5);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('rank 0 gives empty factors; bad rank is an EngineError', () => {
    const a = gaussian(20, 10, 25);
    expect(svdRandomized(a, 0).S.length).toBe(0);
    expect(() => svdRandomized(a, 11)).toThrow(/rank must be an integer in \[0, 10\]/);
    expect(() => svdTruncated(a, 3, { method: 'bogus' as 'auto' })).toThrow(/unknown method/);
  });
});

describe('orthonormalisation and method choice', () => {
  it('CholQR2 on a well-conditioned tall matrix spans the same space', () => {
    const y = gaussian(500, 30, 26);
    const yt = tf.tensor2d(Float32Array.from(y.data), [500, 30]);
    const { Q, method } = orthonormalizeTf(yt);
    expect(method).toBe('cholqr2');
    const q = { rows: 500, cols: 30, data: Float64Array.from(Q.dataSync()) };
    Q.dispose();
    yt.dispose();
    expect(orthErr(q)).toBeLessThan(1e-5);
    // projection of Y onto span(Q) is Y itself
    const proj = matmul64(q, matmul64(transpose(q), y));
    expect(frobeniusNorm(subtract(proj, y)) / frobeniusNorm(y)).toBeLessThan(1e-5);
  });
  it('κ(Y) ≈ 3e6: shifted CholQR (two shifted rounds) instead of Householder, Q orthonormal and spanning Y', () => {
    const { a: y, sigma } = decaying(500, 30, 0.6, 40); // σ₁/σ₃₀ = 0.6⁻²⁹ ≈ 3e6
    const yt = tf.tensor2d(Float32Array.from(y.data), [500, 30]);
    const full = orthonormalizeTf(yt);
    const basis = wellConditionedBasisTf(yt);
    yt.dispose();
    expect([full.method, basis.method]).toEqual(['shifted-cholqr', 'shifted-cholqr-basis']);
    const q = { rows: 500, cols: 30, data: Float64Array.from(full.Q.dataSync()) };
    const b = { rows: 500, cols: 30, data: Float64Array.from(basis.Q.dataSync()) };
    full.Q.dispose();
    basis.Q.dispose();
    expect(orthErr(q)).toBeLessThan(1e-5);
    expect(orthErr(b)).toBeLessThan(0.1); // a basis, not orthonormal: ~ε₃₂·300²
    // span: every column of Y, down to the smallest direction, lies in span(Q): residual ≪ σ_min
    const proj = matmul64(q, matmul64(transpose(q), y));
    expect(frobeniusNorm(subtract(proj, y))).toBeLessThan(1e-5);
    // the basis keeps all 30 directions, the smallest (σ ≈ 4e-7) included: σ_min(B) is far from 0
    expect(sigma[29]!).toBeLessThan(1e-6);
    expect(svdExact(b).S[29]!).toBeGreaterThan(0.5);
  });
  it('randomized SVD on a fast-decaying spectrum stays off Householder and within 1 % of optimal', () => {
    const { a, sigma } = decaying(300, 200, 0.7, 41); // sketch κ ≈ 0.7⁻²⁹ ≈ 3e4 > CholQR2's 1e3 guard
    const r = 20;
    const { U, S, Vt, ortho } = svdRandomized(a, r);
    expect(ortho).toEqual([...Array(8).fill('shifted-cholqr-basis'), 'shifted-cholqr']);
    const optimal = sigma.slice(r).reduce((s, v) => s + v * v, 0);
    expect(frobeniusNorm(subtract(usv(U, S, Vt), a)) ** 2).toBeLessThan(1.01 * optimal);
    expect(orthErr(U)).toBeLessThan(1e-5);
  });
  it('a flat spectrum: later Z products skip their basis, the error stays within 1 % of optimal', () => {
    const { a, sigma } = decaying(300, 200, 0.995, 43); // κ of any sketch ≤ 0.995⁻²⁰⁰ ≈ 2.7
    const r = 20;
    const { U, S, Vt, ortho } = svdRandomized(a, r);
    expect(ortho).toEqual([
      'cholqr1',
      'cholqr1',
      'cholqr1',
      'skipped',
      'cholqr1',
      'skipped',
      'cholqr1',
      'skipped',
      'cholqr2',
    ]);
    const optimal = sigma.slice(r).reduce((s, v) => s + v * v, 0);
    expect(frobeniusNorm(subtract(usv(U, S, Vt), a)) ** 2).toBeLessThan(1.01 * optimal);
    expect(orthErr(U)).toBeLessThan(1e-5);
  });
  it('svdTruncated auto: exact for small matrices or a sketch covering the matrix, randomized otherwise', () => {
    expect(chooseSvdMethod(100, 400, 10)).toBe('exact');
    expect(chooseSvdMethod(1024, 2048, 1014)).toBe('exact'); // r + p = k
    expect(chooseSvdMethod(1024, 2048, 1013)).toBe('randomized');
    expect(chooseSvdMethod(1024, 2048, 600)).toBe('randomized');
    expect(chooseSvdMethod(1024, 2048, 64)).toBe('randomized');
    const { a, sigma } = decaying(60, 50, 0.8, 27);
    const t = svdTruncated(a, 5);
    expect(t.method).toBe('exact');
    for (let i = 0; i < 5; i++) expect(Math.abs(t.S[i]! - sigma[i]!) / sigma[i]!).toBeLessThan(1e-12);
    expect([t.U.cols, t.Vt.rows]).toEqual([5, 5]);
  });
});
