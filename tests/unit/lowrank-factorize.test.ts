import { beforeAll, describe, expect, it } from 'vitest';
import { InputStatisticsAccumulator } from '../../src-main/engine/calibration/gram';
import { matmul64 } from '../../src-main/engine/linalg/matmul';
import {
  frobeniusNorm,
  type Matrix,
  type Matrix64,
  subtract,
  transpose,
  zeros64,
} from '../../src-main/engine/linalg/matrix';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { svdExact } from '../../src-main/engine/linalg/svd-exact';
import { factorizeLowRank } from '../../src-main/engine/methods/lowrank/factorize';
import {
  breakEvenRank,
  expertBreakEvenRank,
  factoredParams,
  planLowRank,
  rankFromKeepRatio,
} from '../../src-main/engine/methods/lowrank/rank';
import { asvdScale, identityScale, whiteningScale } from '../../src-main/engine/methods/lowrank/scaling';
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
/** T×in calibration inputs whose channels have log-uniform scales in [1e-2, 1e2] */
function skewedInputs(t: number, dim: number, seed: number): Matrix64 {
  const x = gaussian(t, dim, seed);
  const rng = xoshiro128ss(seed + 100);
  const scales = Array.from({ length: dim }, () => 10 ** (4 * rng.next() - 2));
  for (let i = 0; i < t; i++) for (let j = 0; j < dim; j++) x.data[i * dim + j] *= scales[j]!;
  return x;
}
function stats(x: Matrix64, batch: number) {
  const acc = new InputStatisticsAccumulator(x.cols);
  for (let s = 0; s < x.rows; s += batch) {
    const rows = Math.min(batch, x.rows - s);
    acc.add({ rows, cols: x.cols, data: x.data.slice(s * x.cols, (s + rows) * x.cols) });
  }
  return acc.result();
}
/** ‖(W − A B) Xᵀ‖²_F */
function outputError(w: Matrix, a: Matrix, b: Matrix, x: Matrix): number {
  const ab = matmul64(a, b);
  return frobeniusNorm(matmul64(subtract(w, ab), transpose(x))) ** 2;
}

describe('InputStatisticsAccumulator', () => {
  it('accumulates G = Σ x xᵀ, token count and Σ_batches mean|x| over tensor and matrix batches', () => {
    const x = gaussian(100, 12, 1);
    const acc = new InputStatisticsAccumulator(12);
    acc.add(tf.tensor2d(Float32Array.from(x.data.slice(0, 60 * 12)), [60, 12]));
    acc.add({ rows: 0, cols: 12, data: new Float32Array(0) }); // ignored
    acc.add({ rows: 40, cols: 12, data: x.data.slice(60 * 12) });
    const s = acc.result();
    expect([s.tokens, s.batches]).toEqual([100, 2]);
    const exact = matmul64(transpose(x), x);
    expect(frobeniusNorm(subtract(s.gram, exact)) / frobeniusNorm(exact)).toBeLessThan(1e-6);
    for (let c = 0; c < 12; c++) {
      let m1 = 0;
      let m2 = 0;
      for (let i = 0; i < 60; i++) m1 += Math.abs(x.data[i * 12 + c]!) / 60;
      for (let i = 60; i < 100; i++) m2 += Math.abs(x.data[i * 12 + c]!) / 40;
      expect(s.absMeanSum[c]).toBeCloseTo(m1 + m2, 5);
    }
    expect(() => acc.add({ rows: 2, cols: 5, data: new Float32Array(10) })).toThrow(
      /does not match \[tokens, 12\]/,
    );
    const before = tf.memory().numTensors;
    acc.add(x);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('factorizeLowRank', () => {
  const out = 48;
  const dim = 64;
  const w = gaussian(out, dim, 2);
  const x = skewedInputs(256, dim, 3);
  // exact f64 Gram for the identity; the f32-accumulated one is checked separately above
  const exactStats = { dim, tokens: x.rows, gram: matmul64(transpose(x), x) };

  it('whitening identity: ‖(W − AB)Xᵀ‖² = Σ_{i>r} σ_i(WS)² to 1e-6 relative', () => {
    const scale = whiteningScale(exactStats);
    expect(scale.kind === 'lower' && !scale.repair.applied).toBe(true);
    const S = scale.kind === 'lower' ? scale.L : zeros64(0, 0);
    const sigma = svdExact(matmul64(w, S)).S;
    for (const r of [4, 16, 40]) {
      const f = factorizeLowRank(w, r, scale);
      expect([f.A.rows, f.A.cols, f.B.rows, f.B.cols]).toEqual([out, r, r, dim]);
      const tail = sigma.slice(r).reduce((s, v) => s + v * v, 0);
      expect(Math.abs(f.discardedEnergy - tail) / tail).toBeLessThan(1e-9);
      expect(Math.abs(outputError(w, f.A, f.B, x) - tail) / tail).toBeLessThan(1e-6);
    }
  });

  it('SVD-LLM ≤ ASVD ≤ vanilla SVD in calibration output error at equal rank (skewed channels)', () => {
    // SVD-LLM ≤ both is a theorem (it minimises ‖(W − W_r)Xᵀ‖ over rank-r W_r). ASVD ≤ vanilla is not
    // a theorem; it holds on this construction because channel scales span four decades.
    const s = stats(x, 64);
    const scales = { svdllm: whiteningScale(s), asvd: asvdScale(s), vanilla: identityScale(dim) };
    for (const r of [8, 24]) {
      const e = Object.fromEntries(
        Object.entries(scales).map(([k, sc]) => {
          const f = factorizeLowRank(w, r, sc);
          return [k, outputError(w, f.A, f.B, x)];
        }),
      );
      expect(e.svdllm!).toBeLessThanOrEqual(e.asvd! * (1 + 1e-6));
      expect(e.svdllm!).toBeLessThanOrEqual(e.vanilla! * (1 + 1e-6));
      expect(e.asvd!).toBeLessThan(e.vanilla!);
      expect(e.svdllm!).toBeLessThan(0.5 * e.vanilla!); // a margin that a broken scale would not meet
    }
  });

  it('rank = min(m, n) reproduces W for every scale kind', () => {
    const s = stats(x, 100);
    for (const sc of [whiteningScale(exactStats), asvdScale(s), identityScale(dim)]) {
      const f = factorizeLowRank(w, out, sc);
      expect(frobeniusNorm(subtract(matmul64(f.A, f.B), w)) / frobeniusNorm(w)).toBeLessThan(1e-5);
      expect(f.discardedEnergy / f.totalEnergy).toBeLessThan(1e-10);
    }
  });

  it('randomized path matches the exact one where the spectrum is well separated', () => {
    const scale = whiteningScale(exactStats);
    const big = gaussian(160, dim, 9);
    const e = factorizeLowRank(big, 12, scale, { method: 'exact' });
    const r = factorizeLowRank(big, 12, scale, { method: 'randomized', powerIters: 3 });
    expect(r.method).toBe('randomized');
    const ee = outputError(big, e.A, e.B, x);
    const er = outputError(big, r.A, r.B, x);
    expect(er).toBeGreaterThanOrEqual(ee * (1 - 1e-5));
    expect(er).toBeLessThan(ee * 1.02);
  });

  it('zero-token inputs fall back to identity scaling (reported) and give plain SVD', () => {
    const empty = new InputStatisticsAccumulator(dim).result();
    const sw = whiteningScale(empty);
    const sa = asvdScale(empty);
    expect(sw.kind).toBe('identity');
    expect(sw.kind === 'identity' && sw.fallback).toMatch(/no calibration tokens/);
    expect(sa.kind === 'identity' && sa.fallback).toMatch(/no calibration tokens/);
    const f = factorizeLowRank(w, 10, sw);
    const tail = svdExact(w)
      .S.slice(10)
      .reduce((s, v) => s + v * v, 0);
    expect(Math.abs(frobeniusNorm(subtract(matmul64(f.A, f.B), w)) ** 2 - tail) / tail).toBeLessThan(1e-5);
  });

  it('ASVD: dead channel → S_c = 0 in W·S and the inverse of S + 1e-6·I; NaN statistics → 0', () => {
    const s = stats(x, 64);
    s.absMeanSum[3] = 0;
    s.absMeanSum[5] = Number.NaN;
    const sc = asvdScale(s);
    if (sc.kind !== 'diagonal') throw new Error('expected a diagonal scale');
    expect(sc.d[3]).toBe(0);
    expect(sc.d[5]).toBe(0);
    expect(sc.inverseShift).toBe(1e-6);
    expect(sc.dInv[3]).toBeCloseTo(1e6, 3);
    expect(sc.dInv[0]).toBeCloseTo(1 / (Math.sqrt(s.absMeanSum[0]!) + 1e-6), 12);
  });

  it('rejects a scale of the wrong width and a bad rank', () => {
    expect(() => factorizeLowRank(w, 4, identityScale(dim + 1))).toThrow(/scale is for 65 input channels/);
    expect(() => factorizeLowRank(w, 49, identityScale(dim))).toThrow(/rank must be an integer in \[0, 48\]/);
  });
});

describe('rank conventions', () => {
  it('keep ratio → rank and break-even ranks match the references', () => {
    expect(rankFromKeepRatio(0.4734, 4096, 14336)).toBe(1508); // Mixtral, METHODS §3.3
    expect(expertBreakEvenRank(2048, 1024)).toBe(682); // OLMoE, §1.4
    expect(breakEvenRank(1024, 2048)).toBe(682);
    expect(rankFromKeepRatio(1, 100, 100)).toBe(50);
    expect(rankFromKeepRatio(0, 100, 300)).toBe(0); // keep 0 = everything removed, not "no change"
    expect(factoredParams(1024, 2048, 682)).toBe(682 * 3072);
    expect(() => rankFromKeepRatio(1.5, 4, 4)).toThrow(/must be in \[0, 1\]/);
  });
  it('compression ratio 0 keeps the matrix dense; otherwise a rank that saves the stated fraction', () => {
    expect(planLowRank(1024, 2048, 0)).toEqual({ kind: 'dense', params: 1024 * 2048 });
    const p = planLowRank(1024, 2048, 0.5);
    expect(p).toEqual({ kind: 'factor', rank: 341, params: 341 * 3072 });
    expect(p.params).toBeLessThanOrEqual(0.5 * 1024 * 2048);
  });
});
