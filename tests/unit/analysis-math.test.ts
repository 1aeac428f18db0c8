// The sensitivity analyses' arithmetic on hand-built inputs with known answers: entropy of uniform
// routing, exact selection accounting, energy curves of known spectra (plain and whitened), and
// linear CKA's identities.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  energyCurve,
  layerEnergy,
  rankReaching,
  squaredSingularValues,
} from '../../src-main/engine/analysis/energy';
import { ckaMatrix } from '../../src-main/engine/analysis/output-cka';
import {
  entropyOf,
  entropyRecord,
  RoutingCollector,
  routingRecord,
} from '../../src-main/engine/analysis/routing-stats';
import type { Matrix64 } from '../../src-main/engine/linalg/matrix';
import { householderQR } from '../../src-main/engine/linalg/qr';
import { svdExact } from '../../src-main/engine/linalg/svd-exact';
import type { MoeLayerView } from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

beforeAll(async () => {
  await initBackend();
});

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const randn = (n: number, seed: number) => {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => r() + r() + r());
};

describe('routing statistics', () => {
  it('uniform routing has entropy log N per token and for the average load', () => {
    const N = 8;
    const n = 5;
    const c = new RoutingCollector(3, N);
    const probs = tf.fill([n, N], 1 / N) as tf.Tensor2D;
    const experts = Int32Array.from({ length: n * 2 }, (_, i) => i % N);
    c.add({ layer: 3, probs, experts, topK: 2 });
    c.add({ layer: 4, probs, experts, topK: 2 }); // another layer's event is not counted
    probs.dispose();
    const e = entropyRecord(c.result());
    expect(e.meanTokenEntropy).toBeCloseTo(Math.log(N), 6);
    expect(e.averageLoadEntropy).toBeCloseTo(Math.log(N), 6);
    expect(e.maxEntropy).toBe(Math.log(N));
    expect(e.tokens).toBe(n);
    // a point mass has zero entropy; two equal weights log 2
    expect(entropyOf([0, 5, 0])).toBe(0);
    expect(entropyOf([1, 1])).toBeCloseTo(Math.log(2), 15);
  });

  it('selection counts sum to tokens × topK and coverage counts experts with ≥ minTokens', () => {
    const N = 4;
    const c = new RoutingCollector(0, N);
    const probs = tf.tensor2d([0.7, 0.2, 0.1, 0, 0.1, 0.6, 0.3, 0, 0.5, 0.4, 0.1, 0], [3, N]);
    c.add({ layer: 0, probs, experts: Int32Array.from([0, 1, 1, 2, 0, 1]), topK: 2 });
    probs.dispose();
    const r = routingRecord(c.result(), 2);
    expect(r.counts).toEqual([2, 3, 1, 0]);
    expect(r.counts.reduce((a, b) => a + b, 0)).toBe(r.tokens * r.topK);
    expect(r.covered).toBe(2);
    expect(r.coverage).toBe(0.5);
    expect(r.frequency.reduce((a, b) => a + b, 0)).toBeCloseTo(2, 12);
    // selection entropy of counts [2,3,1,0]
    const p = [2 / 6, 3 / 6, 1 / 6];
    expect(entropyRecord(c.result()).selectionEntropy).toBeCloseTo(
      -p.reduce((a, x) => a + x * Math.log(x), 0),
      12,
    );
  });

  it('refuses NaN probabilities', () => {
    const c = new RoutingCollector(0, 2);
    const probs = tf.tensor2d([Number.NaN, 1], [1, 2]);
    expect(() => c.add({ layer: 0, probs, experts: Int32Array.from([1]), topK: 1 })).toThrow(/NaN/);
    probs.dispose();
  });
});

describe('energy vs rank', () => {
  it('is monotone and reaches exactly 1 at full rank; thresholds pick the first rank reaching them', () => {
    const c = energyCurve([1, 9, 4, -1e-12]);
    expect([...c]).toEqual([9 / 14, 13 / 14, 1, 1]);
    expect(rankReaching(c, 0.9)).toBe(2);
    expect(rankReaching(c, 0.5)).toBe(1);
    expect(() => energyCurve([1, Number.NaN])).toThrow(/NaN/);
  });

  it('σ² of W and of W·S (S Sᵀ = G) from both sides equal an exact SVD', () => {
    for (const [m, n] of [
      [6, 10],
      [10, 6],
    ] as const) {
      const wData = randn(m * n, m * 31 + n);
      const W = tf.tensor2d(wData, [m, n]);
      const exact = svdExact({ rows: m, cols: n, data: Float64Array.from(wData) }).S;
      const plain = squaredSingularValues({ kind: 'dense', w: W });
      expect(plain.length).toBe(Math.min(m, n));
      for (let i = 0; i < plain.length; i++) expect(plain[i]!).toBeCloseTo(exact[i]! ** 2, 3);
      // G = D², S = D diagonal: σ(W·D)
      const d = Float64Array.from({ length: n }, (_, i) => 0.5 + i);
      const G: Matrix64 = { rows: n, cols: n, data: new Float64Array(n * n) };
      for (let i = 0; i < n; i++) G.data[i * n + i] = d[i]! ** 2;
      const wd = Float64Array.from(wData, (v, k) => v * d[k % n]!);
      const exactW = svdExact({ rows: m, cols: n, data: wd }).S;
      const white = squaredSingularValues({ kind: 'dense', w: W }, G);
      for (let i = 0; i < white.length; i++)
        expect(white[i]! / exactW[0]! ** 2).toBeCloseTo(exactW[i]! ** 2 / exactW[0]! ** 2, 4);
      W.dispose();
    }
  });

  it('a layer record has one curve per projection over its experts, ending at 1', () => {
    const h = 6;
    const I = 4;
    const mk = (s: number, r: number, c: number) => ({
      kind: 'dense' as const,
      w: tf.tensor2d(randn(r * c, s), [r, c]),
    });
    const experts = [0, 1, 2].map((e) => ({
      gate: mk(e * 3 + 1, I, h),
      up: mk(e * 3 + 2, I, h),
      down: mk(e * 3 + 3, h, I),
    }));
    const view = {
      layer: 2,
      router: tf.zeros([3, h]),
      experts,
      routing: { kind: 'softmax-topk', topK: 1, normTopK: false, normEps: 0 },
    } as unknown as MoeLayerView;
    const rec = layerEnergy(view);
    expect(rec.fullRank).toBe(4);
    expect(rec.ranks).toEqual([1, 2, 3, 4]);
    for (const p of ['gate', 'up', 'down'] as const) {
      const c = rec[p];
      expect(c.mean.at(-1)).toBe(1);
      expect(c.min.at(-1)).toBe(1);
      for (let i = 1; i < c.mean.length; i++) {
        expect(c.mean[i]!).toBeGreaterThanOrEqual(c.mean[i - 1]!);
        expect(c.min[i]!).toBeLessThanOrEqual(c.mean[i]! + 1e-15);
        expect(c.max[i]!).toBeGreaterThanOrEqual(c.mean[i]! - 1e-15);
      }
      expect(c.rankAt).toHaveLength(4);
      expect(c.rankAt[0]).toHaveLength(3);
    }
    tf.dispose([view.router, ...experts.flatMap((e) => [e.gate.w, e.up.w, e.down.w])]);
  });
});

describe('linear CKA', () => {
  it('is 1 for an expert with itself and for a rotated, scaled copy; symmetric; in [0, 1]', () => {
    const n = 40;
    const h = 5;
    const X = randn(n * h, 7);
    // orthogonal Q from a QR of a random matrix
    const Q = householderQR({ rows: h, cols: h, data: Float64Array.from(randn(h * h, 9)) }).Q;
    const XQ = new Float32Array(n * h);
    for (let t = 0; t < n; t++)
      for (let j = 0; j < h; j++) {
        let s = 0;
        for (let k = 0; k < h; k++) s += X[t * h + k]! * Q.data[k * h + j]!;
        XQ[t * h + j] = 3 * s + 0.25; // scale and a constant shift (centring removes it)
      }
    const Y = randn(n * h, 11);
    const m = ckaMatrix([X, XQ, Y], n, h);
    for (let i = 0; i < 3; i++) {
      expect(m[i]![i]).toBe(1);
      for (let j = 0; j < 3; j++) {
        expect(m[i]![j]).toBe(m[j]![i]);
        expect(m[i]![j]!).toBeGreaterThanOrEqual(0);
        expect(m[i]![j]!).toBeLessThanOrEqual(1);
      }
    }
    expect(m[0]![1]).toBeCloseTo(1, 4);
    expect(m[0]![2]!).toBeLessThan(0.6);
    expect(() => ckaMatrix([X], 1, h)).toThrow(/at least 2 tokens/);
    const bad = X.slice();
    bad[3] = Number.NaN;
    expect(() => ckaMatrix([bad], n, h)).toThrow(/NaN/);
  });
});
