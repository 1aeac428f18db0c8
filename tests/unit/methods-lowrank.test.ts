// Expert-level properties of the low-rank methods on real routed calibration tokens of a generated
// model: the SVD-LLM whitening identity (§1.2) and the ordering of calibration output errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LayerStats,
  LayerStatsCollector,
  meanAbs,
  outlierFraction,
  routingFrequency,
} from '../../src-main/engine/calibration/layer-stats';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { asvd } from '../../src-main/engine/methods/asvd';
import { AsvdParams } from '../../src-main/engine/methods/asvd.params';
import { moeSvd, principalRank, selectionLength } from '../../src-main/engine/methods/moe-svd';
import { MoeSvdParams, moeSvdAccounting } from '../../src-main/engine/methods/moe-svd.params';
import { svd } from '../../src-main/engine/methods/svd';
import { SvdParams } from '../../src-main/engine/methods/svd.params';
import { svdLlm } from '../../src-main/engine/methods/svd-llm';
import { SvdLlmParams } from '../../src-main/engine/methods/svd-llm.params';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { MoeLayerView } from '../../src-main/engine/model/types';
import { viewExpertParams } from '../../src-main/engine/pipeline/plan-state';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'methods-'));
let model: LoadedModel;
let stats: LayerStats;
/** routed expert inputs X_e [m, h] and intermediates of layer 0, per expert */
const X: Float32Array[][] = [];
const Z: Float32Array[][] = [];
let view: MoeLayerView;
const LAYER = 0;

beforeAll(async () => {
  await initBackend();
  writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 2, seed: 11 });
  model = openModel(dir);
  const rng = xoshiro128ss(5);
  const seqs = Array.from({ length: 4 }, () => Array.from({ length: 48 }, () => rng.int(256)));
  const exec = new StreamingExecutor(model);
  const c = new LayerStatsCollector(
    LAYER,
    model.spec.experts,
    { hidden: model.spec.hidden, intermediate: model.spec.moeIntermediate },
    { inputs: true },
  );
  const inner = c.observer();
  for (let e = 0; e < model.spec.experts; e++) {
    X.push([]);
    Z.push([]);
  }
  const x = exec.embed(seqs);
  const y = await exec.runLayer(LAYER, x, {
    ...inner,
    onExpert: (e) => {
      inner.onExpert!(e);
      X[e.expert]!.push(e.input.dataSync() as Float32Array);
      Z[e.expert]!.push(e.intermediate.dataSync() as Float32Array);
    },
  });
  tf.dispose([x.hidden, y]);
  exec.dispose();
  stats = c.result();
  view = readMoeView(model, LAYER);
});

afterAll(() => {
  disposeMoeView(view);
  model.checkpoint.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** ‖(W − A·B)·Xᵀ‖²_F over the rows of X (f64). */
function outputError(W: tf.Tensor2D, A: tf.Tensor2D, Bm: tf.Tensor2D, rows: Float32Array[]): number {
  const w = W.dataSync();
  const ab = tf.tidy(() => tf.matMul(A, Bm)).dataSync();
  const [out, inp] = W.shape;
  let err = 0;
  for (const chunk of rows) {
    for (let t = 0; t < chunk.length / inp; t++) {
      for (let i = 0; i < out; i++) {
        let s = 0;
        for (let j = 0; j < inp; j++) s += (w[i * inp + j]! - ab[i * inp + j]!) * chunk[t * inp + j]!;
        err += s * s;
      }
    }
  }
  return err;
}

function errors(v: MoeLayerView, proj: 'gate' | 'down'): number[] {
  return v.experts.map((ex, e) => {
    const L = ex[proj];
    const W = view.experts[e]![proj];
    if (L.kind !== 'factored' || W.kind !== 'dense') throw new Error('shape');
    return outputError(W.w, L.A, L.B, proj === 'down' ? Z[e]! : X[e]!);
  });
}

describe('low-rank methods on real routed tokens', () => {
  const RANK = 12;

  it('collector counts only routed tokens: Σ f_i = k, per-expert Gram token counts = routed rows', () => {
    const f = routingFrequency(stats);
    expect(f.reduce((a, b) => a + b, 0)).toBeCloseTo(model.spec.routing.topK, 12);
    stats.experts.forEach((e, i) => {
      const rows = X[i]!.reduce((a, c) => a + c.length / model.spec.hidden, 0);
      expect(e.tokens).toBe(rows);
      expect(e.input!.tokens).toBe(rows);
    });
  });

  it('SVD-LLM whitening identity: discarded σ²(W·S) = ‖(W − AB)Xᵀ‖²_F per expert (gate and down)', () => {
    const out = svdLlm.compressLayer({ view, stats, rank: RANK, params: SvdLlmParams.parse({}) });
    const rec = out.record.experts as { gate: { relError: number }; down: { relError: number } }[];
    for (const proj of ['gate', 'down'] as const) {
      const errs = errors(out.view, proj);
      errs.forEach((err, e) => {
        // relError = discarded / ‖W S‖²_F and ‖W S‖²_F = ‖W Xᵀ‖²_F
        const W = view.experts[e]![proj];
        if (W.kind !== 'dense') throw new Error('dense');
        const zero = tf.zeros([W.w.shape[0], 1]) as tf.Tensor2D;
        const zb = tf.zeros([1, W.w.shape[1]]) as tf.Tensor2D;
        const total = outputError(W.w, zero, zb, proj === 'down' ? Z[e]! : X[e]!);
        tf.dispose([zero, zb]);
        expect(err).toBeGreaterThan(0);
        expect(rec[e]![proj].relError * total).toBeCloseTo(err, -Math.log10(err * 2e-3));
      });
    }
    disposeMoeView(out.view);
  });

  it('at equal rank the calibration output error of SVD-LLM ≤ vanilla SVD and ≤ ASVD per expert matrix', () => {
    const a = svdLlm.compressLayer({ view, stats, rank: RANK, params: SvdLlmParams.parse({}) });
    const b = svd.compressLayer({ view, stats, rank: RANK, params: SvdParams.parse({}) });
    const c = asvd.compressLayer({ view, stats, rank: RANK, params: AsvdParams.parse({}) });
    for (const proj of ['gate', 'down'] as const) {
      const [ea, eb, ec] = [errors(a.view, proj), errors(b.view, proj), errors(c.view, proj)];
      ea.forEach((e, i) => {
        expect(e).toBeLessThanOrEqual(eb[i]! * (1 + 1e-4));
        expect(e).toBeLessThanOrEqual(ec[i]! * (1 + 1e-4));
      });
    }
    for (const v of [a, b, c]) disposeMoeView(v.view);
  });

  it('MoE-SVD (equation): one shared B per projection, k distinct A; param count matches unitPerRank', () => {
    const p = MoeSvdParams.parse({ uKeep: 2 });
    const out = moeSvd.compressLayer({ view, stats, rank: RANK, params: p });
    for (const proj of ['gate', 'up', 'down'] as const) {
      const Bs = new Set(out.view.experts.map((e) => (e[proj].kind === 'factored' ? e[proj].B : null)));
      const As = new Set(out.view.experts.map((e) => (e[proj].kind === 'factored' ? e[proj].A : null)));
      expect(Bs.size).toBe(1);
      expect(As.size).toBe(2);
    }
    const shape = {
      hidden: model.spec.hidden,
      intermediate: model.spec.moeIntermediate,
      experts: model.spec.experts,
      topK: 2,
    };
    expect(viewExpertParams(out.view)).toBe(RANK * moeSvdAccounting.unitPerRank(shape, p));
    disposeMoeView(out.view);
    const ap = MoeSvdParams.parse({ uTrimming: 'appendix' });
    const app = moeSvd.compressLayer({ view, stats, rank: RANK, params: ap });
    expect(viewExpertParams(app.view)).toBe(RANK * moeSvdAccounting.unitPerRank(shape, ap));
    disposeMoeView(app.view);
  });

  it('outlier fraction a_i (two passes: mean |x|, then count above τ·mean) matches a direct count on the routed inputs', async () => {
    const rng = xoshiro128ss(5);
    const seqs = Array.from({ length: 4 }, () => Array.from({ length: 48 }, () => rng.int(256)));
    const dims = { hidden: model.spec.hidden, intermediate: model.spec.moeIntermediate };
    const exec = new StreamingExecutor(model);
    const pass = async (needs: ConstructorParameters<typeof LayerStatsCollector>[3]) => {
      const c = new LayerStatsCollector(LAYER, model.spec.experts, dims, needs);
      const x = exec.embed(seqs);
      const y = await exec.runLayer(LAYER, x, c.observer());
      tf.dispose([x.hidden, y]);
      return c.result();
    };
    const first = await pass({ absMean: true });
    const second = await pass({ outliers: { tau: 2, mean: meanAbs(first) } });
    exec.dispose();
    const a = outlierFraction(second);
    X.forEach((chunks, e) => {
      const all = chunks.flatMap((c) => Array.from(c, Math.abs));
      const mean = all.reduce((s, v) => s + v, 0) / all.length;
      const direct = all.filter((v) => v > 2 * mean).length / all.length;
      expect(a[e]).toBeCloseTo(direct, 12);
      expect(direct).toBeGreaterThan(0);
    });
  });

  it('U-trimming selections: top expert alone, second with top, the rest {top-1, top-2}', () => {
    expect([0, 1, 2, 3, 7].map((p) => selectionLength(p, 2))).toEqual([1, 2, 2, 2, 2]);
    expect([0, 1, 2, 3, 7].map((p) => selectionLength(p, 4))).toEqual([1, 2, 3, 4, 4]);
  });

  it('principal rank counts σ above the threshold', () => {
    const W = { rows: 3, cols: 4, data: Float64Array.from([5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.01, 0]) };
    expect(principalRank(W, 0.01)).toBe(2);
    expect(principalRank(W, 0.001)).toBe(3);
  });

  it('an expert with no calibration tokens falls back to plain SVD and is counted', () => {
    const empty: LayerStats = {
      ...stats,
      experts: stats.experts.map((e, i) =>
        i === 0
          ? {
              ...e,
              tokens: 0,
              input: { ...e.input!, tokens: 0 },
              intermediate: { ...e.intermediate!, tokens: 0 },
            }
          : e,
      ),
    };
    const a = svdLlm.compressLayer({ view, stats: empty, rank: RANK, params: SvdLlmParams.parse({}) });
    const b = svd.compressLayer({ view, stats, rank: RANK, params: SvdParams.parse({}) });
    expect(a.record.fallbackExperts).toBe(1);
    expect(a.record.fallbacks).toBe(1);
    const [ea, eb] = [a.view.experts[0]!.gate, b.view.experts[0]!.gate];
    if (ea.kind !== 'factored' || eb.kind !== 'factored') throw new Error('factored');
    const d = tf.tidy(
      () => tf.max(tf.abs(tf.sub(tf.matMul(ea.A, ea.B), tf.matMul(eb.A, eb.B)))).dataSync()[0]!,
    );
    expect(d).toBeLessThan(1e-5);
    disposeMoeView(a.view);
    disposeMoeView(b.view);
  });
});
