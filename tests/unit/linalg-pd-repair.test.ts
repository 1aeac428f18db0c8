// The 'shift-min-eig' repair on the Grams it meets in practice: Σ x xᵀ over fewer routed tokens than
// channels, accumulated as addGram does (f32 products of 32-row chunks, summed in f64), so λmin is
// a small negative number from rounding, inside a cluster of ~n/2 near-zero eigenvalues. The shift
// chosen through Lanczos is compared with the exact λmin from the dense eigenvalues.
import { describe, expect, it } from 'vitest';
import { eigh } from '../../src-main/engine/linalg/eigh';
import { lanczosMinEigenvalue } from '../../src-main/engine/linalg/lanczos';
import { matmul64 } from '../../src-main/engine/linalg/matmul';
import {
  frobeniusNorm,
  type Matrix64,
  subtract,
  transpose,
  zeros64,
} from '../../src-main/engine/linalg/matrix';
import { choleskyRepaired } from '../../src-main/engine/linalg/pd-repair';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { whiteningScale } from '../../src-main/engine/methods/lowrank/scaling';

/** Gram of `tokens` gaussian rows of width n (channel c scaled by 1 + c/n), f32 per 32-row chunk */
function f32Gram(n: number, tokens: number, seed: number): Matrix64 {
  const rng = xoshiro128ss(seed);
  const g = zeros64(n, n);
  const chunk = 32;
  const x = new Float32Array(chunk * n);
  for (let t0 = 0; t0 < tokens; t0 += chunk) {
    const m = Math.min(chunk, tokens - t0);
    for (let i = 0; i < m * n; i++) x[i] = rng.gaussian() * (1 + (i % n) / n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let t = 0; t < m; t++) s = Math.fround(s + Math.fround(x[t * n + i]! * x[t * n + j]!));
        g.data[i * n + j] += s;
        if (j < i) g.data[j * n + i] += s;
      }
  }
  return g;
}

function expectFactors(g: Matrix64, L: Matrix64, shift: number): void {
  const n = g.rows;
  const target = { rows: n, cols: n, data: g.data.slice() };
  for (let i = 0; i < n; i++) target.data[i * n + i] += shift;
  expect(frobeniusNorm(subtract(matmul64(L, transpose(L)), target)) / frobeniusNorm(target)).toBeLessThan(
    1e-13,
  );
}

describe("'shift-min-eig' on a singular f32-accumulated Gram (n = 384, 192 tokens)", () => {
  const n = 384;
  const g = f32Gram(n, 192, 5);
  const lmin = eigh(g, { vectors: false }).values[0]!;

  it('the Gram is singular with a rounding-sized negative λmin', () => {
    expect(lmin).toBeLessThan(0);
    expect(lmin).toBeGreaterThan(-1e-2);
  });

  // 300 (the default) converges here; 100 stops at about half of λmin and needs the geometric growth;
  // 40 is far from converged and ends in the additive widening, which may overshoot 2·|λmin|
  for (const [maxIterations, bound] of [
    [300, 2],
    [100, 2],
    [40, 10],
  ] as const) {
    it(`Lanczos (at most ${maxIterations} steps): the shift factors G and stays within ${bound}·|λmin| + 1e-6; the bracket holds λmin`, () => {
      const { L, repair } = choleskyRepaired(g, 'shift-min-eig', {
        rankDeficient: true,
        eig: { method: 'lanczos', maxIterations },
      });
      expect(repair.eigenvalueMethod).toBe('lanczos');
      expect(repair.skippedPlain).toBe(true);
      const shift = repair.shift!;
      expect(shift).toBeGreaterThanOrEqual(-lmin + 1e-6 - 1e-9);
      expect(shift).toBeLessThanOrEqual(bound * -lmin + 1e-6);
      expect(repair.minEigenvalue!).toBeGreaterThanOrEqual(lmin - 1e-12); // a Ritz value: from above
      const [lo, hi] = repair.minEigenvalueBracket!;
      expect(lo).toBe(-shift);
      expect(lo).toBeLessThan(lmin);
      expect(hi).toBeGreaterThanOrEqual(lmin - 1e-9);
      expectFactors(g, L, shift);
    });
  }

  it('a converged Lanczos estimate is the specification: one Cholesky of G + (−λmin + 1e-6)·I', () => {
    const { repair } = choleskyRepaired(g, 'shift-min-eig', {
      rankDeficient: true,
      eig: { method: 'lanczos', maxIterations: n },
    });
    expect(repair.attempts).toBe(1);
    expect(Math.abs(repair.shift! - (-lmin + 1e-6))).toBeLessThan(1e-9);
  });

  it('rankDeficient only skips the doomed plain Cholesky: same shift and factor, one attempt fewer', () => {
    const opts = { eig: { method: 'exact' as const } };
    const plain = choleskyRepaired(g, 'shift-min-eig', opts);
    const skipped = choleskyRepaired(g, 'shift-min-eig', { ...opts, rankDeficient: true });
    expect(plain.repair.shift).toBe(-lmin + 1e-6);
    expect(skipped.repair.shift).toBe(plain.repair.shift);
    expect(skipped.L.data).toEqual(plain.L.data);
    expect(plain.repair.attempts).toBe(2);
    expect(skipped.repair.attempts).toBe(1);
    expect(plain.repair.skippedPlain).toBeUndefined();
  });

  it('the symmetric mat-vec (lower triangle) gives the same Ritz value as symmetrising on the fly', () => {
    const a = lanczosMinEigenvalue(g, { maxIterations: 80 });
    const b = lanczosMinEigenvalue(g, { maxIterations: 80, symmetric: true });
    expect(b.iterations).toBe(a.iterations);
    expect(Math.abs(a.value - b.value)).toBeLessThan(1e-12 * frobeniusNorm(g));
  });

  it('the WebAssembly kernel and the JS loops give the same Ritz value, residual and step count', () => {
    // odd n: the SIMD pairs leave one column per row and one entry per vector to the scalar tails
    for (const m of [g, { rows: 63, cols: 63, data: sliceSquare(g, 63) }]) {
      const wasm = lanczosMinEigenvalue(m, { maxIterations: 60, symmetric: true });
      const js = lanczosMinEigenvalue(m, { maxIterations: 60, symmetric: true, maxKernelBytes: 0 });
      expect(wasm.iterations).toBe(js.iterations);
      expect(Math.abs(wasm.value - js.value)).toBeLessThan(1e-12 * frobeniusNorm(m));
      expect(Math.abs(wasm.residual - js.residual)).toBeLessThan(1e-9 * frobeniusNorm(m));
    }
  });
});

function sliceSquare(a: { cols: number; data: Float64Array }, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out.set(a.data.subarray(i * a.cols, i * a.cols + n), i * n);
  return out;
}

describe('whitening tells the repair when the Gram is rank-deficient', () => {
  it('fewer routed tokens than channels: no plain Cholesky; as many or more: the plain one comes first', () => {
    const n = 64;
    const few = whiteningScale({ dim: n, tokens: 40, gram: f32Gram(n, 40, 7) });
    const many = whiteningScale({ dim: n, tokens: 96, gram: f32Gram(n, 96, 7) });
    if (few.kind !== 'lower' || many.kind !== 'lower') throw new Error('expected Cholesky scales');
    expect(few.repair.skippedPlain).toBe(true);
    expect(few.repair.applied).toBe(true);
    expect(few.repair.attempts).toBe(1);
    expect(many.repair.skippedPlain).toBeUndefined();
    expect(many.repair).toMatchObject({ applied: false, attempts: 1 });
  });
});
