// Expert-by-expert low-rank compression (svd, asvd, svd-llm) against the whole-layer reference on a
// generated model: the same statistics up to f32 summation order, the same factors (A·B) within
// 1e-4, a spilled capture bit-identical to an in-memory one, and a tfjs working set that returns to
// the same tensors and bytes after every expert (nothing grows with the expert index).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayerStats, LayerStatsCollector } from '../../src-main/engine/calibration/layer-stats';
import { MoeInputCapture } from '../../src-main/engine/calibration/moe-input-capture';
import {
  addGram,
  routedInputStatistics,
  routedIntermediateStatistics,
} from '../../src-main/engine/calibration/routed-statistics';
import { EngineError } from '../../src-main/engine/errors';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { asvd, asvdExpert } from '../../src-main/engine/methods/asvd';
import { AsvdParams } from '../../src-main/engine/methods/asvd.params';
import {
  compressExpertByExpert,
  type ExpertLowRank,
} from '../../src-main/engine/methods/lowrank/expert-by-expert';
import { expertSource } from '../../src-main/engine/methods/lowrank/expert-source';
import { whiteningScale } from '../../src-main/engine/methods/lowrank/scaling';
import { whiteningThread } from '../../src-main/engine/methods/lowrank/whitening-thread';
import type { CurrentLayer, StepContext } from '../../src-main/engine/methods/method';
import { svd, svdExpert } from '../../src-main/engine/methods/svd';
import { SvdParams } from '../../src-main/engine/methods/svd.params';
import { svdLlm, svdLlmExpert } from '../../src-main/engine/methods/svd-llm';
import { SvdLlmParams, svdLlmDeclaration } from '../../src-main/engine/methods/svd-llm.params';
import type { LowRankMethod } from '../../src-main/engine/methods/types';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView, readExpert, readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride, Linear, MoeLayerView } from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { disposeOverrides, driveStep } from '../support/drive-step';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowrank-stream-'));
const LAYER = 0;
const RANK = 12;
let model: LoadedModel;
let stats: LayerStats;
let capture: MoeInputCapture;
let spilled: MoeInputCapture;
let calibration: number[][];

beforeAll(async () => {
  await initBackend();
  writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 2, seed: 21, dtype: 'BF16' });
  model = openModel(dir);
  const rng = xoshiro128ss(9);
  calibration = Array.from({ length: 6 }, () => Array.from({ length: 64 }, () => rng.int(256)));
  const exec = new StreamingExecutor(model, { tokenChunk: 100 });
  const c = new LayerStatsCollector(
    LAYER,
    model.spec.experts,
    { hidden: model.spec.hidden, intermediate: model.spec.moeIntermediate },
    { inputs: true },
  );
  const opts = { keepInputs: true, dir: path.join(dir, 'scratch') };
  capture = new MoeInputCapture(LAYER, model.spec.hidden, { ...opts, budgetBytes: 2 ** 30 });
  spilled = new MoeInputCapture(LAYER, model.spec.hidden, { ...opts, budgetBytes: 0 });
  const observers = [c.observer(), capture.observer(), spilled.observer()];
  for (let i = 0; i < calibration.length; i += 2) {
    const x = exec.embed(calibration.slice(i, i + 2));
    const y = await exec.runLayer(LAYER, x, {
      onRouter: (e) => {
        for (const o of observers) o.onRouter?.(e);
      },
      onExpert: (e) => {
        for (const o of observers) o.onExpert?.(e);
      },
    });
    tf.dispose([x.hidden, y]);
  }
  exec.dispose();
  stats = c.result();
  capture.finish();
  spilled.finish();
});

afterAll(() => {
  capture.dispose();
  spilled.dispose();
  model.checkpoint.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
};

const checkpointSource = (m: LoadedModel) =>
  expertSource(
    { run: { model: m, overrides: new Map() } } as unknown as StepContext<unknown>,
    { layer: LAYER } as CurrentLayer,
  );

function product(L: Linear): Float32Array {
  if (L.kind !== 'factored') throw new Error('expected factors');
  const p = tf.matMul(L.A, L.B);
  const d = p.dataSync() as Float32Array;
  p.dispose();
  return d;
}

describe('calibration capture', () => {
  it('a column-blocked Gram equals the one-product Gram within f32 rounding', () => {
    const rng = xoshiro128ss(4);
    const a = Float32Array.from({ length: 50 * 33 }, () => rng.gaussian());
    const A = tf.tensor2d(a, [50, 33]);
    const full = new Float64Array(33 * 33);
    const blocked = new Float64Array(33 * 33);
    addGram(full, A);
    addGram(blocked, A, 7);
    A.dispose();
    expect(maxRel(blocked, full)).toBeLessThan(1e-6);
    let ref = 0;
    for (let t = 0; t < 50; t++) ref += a[t * 33 + 5]! * a[t * 33 + 30]!;
    expect(blocked[5 * 33 + 30]).toBeCloseTo(ref, 4);
  });

  it('counts every routed token and keeps or spills chunks by the budget', () => {
    expect(capture.tokens).toBe(6 * 64);
    expect(Array.from(capture.counts)).toEqual(stats.experts.map((e) => e.tokens));
    expect(capture.bytesOnDisk).toBe(0);
    expect(spilled.bytesInMemory).toBe(0);
    expect(spilled.bytesOnDisk).toBe(6 * 64 * model.spec.hidden * 4);
    // chunks of 100 tokens over 128-token batches: 2 per batch
    expect(capture.chunks.map((c) => c.n)).toEqual([100, 28, 100, 28, 100, 28]);
    for (let i = 0; i < capture.chunks.length; i++) expect(spilled.rows(i)).toEqual(capture.rows(i));
  });

  it("rebuilds each expert's statistics exactly: same tokens, events, Grams and |x| means", () => {
    for (let e = 0; e < model.spec.experts; e++) {
      const w = readExpert(model, LAYER, e);
      try {
        const ref = stats.experts[e]!;
        const inp = routedInputStatistics(capture, e, { gram: true, absMean: true });
        expect(inp.tokens).toBe(ref.input!.tokens);
        expect(inp.batches).toBe(ref.input!.batches);
        // the same f32 products on the same rows, accumulated in the same order: bit-identical
        expect(inp.gram!.data).toEqual(ref.input!.gram.data);
        expect(inp.absMeanSum!).toEqual(ref.input!.absMeanSum);
        const mid = routedIntermediateStatistics(
          capture,
          e,
          { gate: (w.gate as { w: tf.Tensor2D }).w, up: (w.up as { w: tf.Tensor2D }).w },
          { gram: true, absMean: true },
        );
        expect(mid.tokens).toBe(ref.intermediate!.tokens);
        expect(mid.batches).toBe(ref.intermediate!.batches);
        expect(mid.gram!.data).toEqual(ref.intermediate!.gram.data);
        expect(mid.absMeanSum!).toEqual(ref.intermediate!.absMeanSum);
      } finally {
        tf.dispose([w.gate, w.up, w.down].map((L) => (L as { w: tf.Tensor }).w));
      }
    }
  });
});

const cases: [string, ExpertLowRank<never>, LowRankMethod<never>, unknown][] = [
  ['svd-llm', svdLlmExpert as never, svdLlm as never, SvdLlmParams.parse({})],
  ['asvd', asvdExpert as never, asvd as never, AsvdParams.parse({})],
  ['svd', svdExpert as never, svd as never, SvdParams.parse({})],
];

describe('expert by expert equals the whole layer at once', () => {
  it.each(cases)(
    '%s: factors A·B and errors within 1e-4, a spilled capture bit-identical',
    async (_id, m, ref, params) => {
      const view = readMoeView(model, LAYER);
      const whole = ref.compressLayer({ view, stats, rank: RANK, params: params as never });
      const streamed = await compressExpertByExpert({
        method: m,
        params: params as never,
        rank: RANK,
        source: checkpointSource(model),
        capture,
      });
      const fromDisk = await compressExpertByExpert({
        method: m,
        params: params as never,
        rank: RANK,
        source: checkpointSource(model),
        capture: spilled,
      });
      try {
        expect(streamed.view.experts).toHaveLength(model.spec.experts);
        for (let e = 0; e < model.spec.experts; e++)
          for (const p of ['gate', 'up', 'down'] as const) {
            const a = product(streamed.view.experts[e]![p]);
            expect(maxRel(a, product(whole.view.experts[e]![p]))).toBeLessThan(1e-4);
            expect(product(fromDisk.view.experts[e]![p])).toEqual(a);
          }
        const rs = streamed.record as { relError: Record<string, number>; tokens: number[] };
        const rw = whole.record as { relError: Record<string, number>; tokens: number[] };
        expect(rs.tokens).toEqual(rw.tokens);
        for (const p of ['gate', 'up', 'down']) expect(rs.relError[p]!).toBeCloseTo(rw.relError[p]!, 4);
        expect(Object.keys(rs).sort()).toEqual(Object.keys(rw).sort());
        expect(tf.memory().numTensors).toBeGreaterThan(0);
        expect(streamed.view.router.dataSync()).toEqual(view.router.dataSync());
      } finally {
        for (const v of [view, whole.view, streamed.view, fromDisk.view]) disposeMoeView(v as MoeLayerView);
      }
    },
  );
});

describe('working set per expert', () => {
  it('svd-llm: live tensors and bytes are the same after every expert; host factors grow by one expert each', async () => {
    const after: { tensors: number; bytes: number; factorBytes: number }[] = [];
    const before = tf.memory();
    const out = await compressExpertByExpert({
      method: svdLlmExpert,
      params: SvdLlmParams.parse({}),
      rank: RANK,
      source: checkpointSource(model),
      capture,
      afterExpert: (p) => {
        const m = tf.memory();
        after.push({ tensors: m.numTensors, bytes: m.numBytes, factorBytes: p.factorBytes });
      },
    });
    try {
      const { hidden: h, moeIntermediate: I, experts: N } = model.spec;
      expect(after).toHaveLength(N);
      for (const a of after) {
        expect(a.tensors).toBe(before.numTensors);
        expect(a.bytes).toBe(before.numBytes);
      }
      expect(after.map((a) => a.factorBytes)).toEqual(after.map((_a, e) => (e + 1) * 3 * RANK * (h + I) * 4));
      // the new view: a router and six factor tensors per expert, nothing else left behind
      expect(tf.memory().numTensors).toBe(before.numTensors + 1 + 6 * N);
    } finally {
      disposeMoeView(out.view);
    }
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });
});

describe('whitening on the second thread', () => {
  const whitener = whiteningThread({ MOE_THREADS: '2' })!;

  it('overlapped with the previous expert: the same bits as in order, the same tensors after every expert', async () => {
    let calls = 0;
    const counting = {
      whiten: (st: Parameters<typeof whitener.whiten>[0], o: Parameters<typeof whitener.whiten>[1]) => {
        calls++;
        return whitener.whiten(st, o);
      },
    };
    // live tensors and bytes after each expert, relative to the start of the run
    const run = async (overlap: boolean, after: { tensors: number; bytes: number }[]) => {
      const base = tf.memory();
      return compressExpertByExpert({
        method: svdLlmExpert,
        params: SvdLlmParams.parse({}),
        rank: RANK,
        source: checkpointSource(model),
        capture,
        ...(overlap ? { whitener: counting, threads: 2 } : {}),
        afterExpert: () => {
          const m = tf.memory();
          after.push({ tensors: m.numTensors - base.numTensors, bytes: m.numBytes - base.numBytes });
        },
      });
    };
    const inOrder: { tensors: number; bytes: number }[] = [];
    const overlapped: { tensors: number; bytes: number }[] = [];
    const a = await run(false, inOrder);
    const b = await run(true, overlapped);
    try {
      expect(calls).toBe(2 * model.spec.experts);
      expect(overlapped).toHaveLength(model.spec.experts);
      expect(overlapped).toEqual(inOrder);
      for (const x of overlapped) expect(x).toEqual({ tensors: 0, bytes: 0 });
      for (let e = 0; e < model.spec.experts; e++)
        for (const p of ['gate', 'up', 'down'] as const) {
          const fa = a.view.experts[e]![p] as { A: tf.Tensor; B: tf.Tensor };
          const fb = b.view.experts[e]![p] as { A: tf.Tensor; B: tf.Tensor };
          expect(fb.A.dataSync()).toEqual(fa.A.dataSync());
          expect(fb.B.dataSync()).toEqual(fa.B.dataSync());
        }
      expect(b.record).toEqual(a.record);
    } finally {
      disposeMoeView(a.view);
      disposeMoeView(b.view);
    }
  });

  it('a whitening that fails there fails with the error of the calling thread', async () => {
    // rank-1 Gram: not positive definite, and repair 'none' refuses it
    const n = 8;
    const gram = new Float64Array(n * n).fill(1);
    const stats = () => ({ dim: n, tokens: 3, gram: { rows: n, cols: n, data: gram.slice() } });
    let local: unknown;
    try {
      whiteningScale(stats(), { repair: 'none' });
    } catch (e) {
      local = e;
    }
    expect(local).toBeInstanceOf(EngineError);
    const remote = await whitener.whiten(stats(), { repair: 'none' }).catch((e: unknown) => e);
    expect(remote).toBeInstanceOf(EngineError);
    expect((remote as EngineError).message).toBe((local as EngineError).message);
    expect((remote as EngineError).hint).toBe((local as EngineError).hint);
    // and a good one afterwards still works, with the bits of the calling thread
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) g[i * n + j] = i === j ? 2 + i : 0.5 / (1 + i + j);
    const mk = () => ({ dim: n, tokens: 20, gram: { rows: n, cols: n, data: g.slice() } });
    const there = await whitener.whiten(mk(), {});
    const here = whiteningScale(mk(), {});
    expect(there).toEqual(here);
  });

  it('one thread wanted: no whitening thread', () => {
    expect(whiteningThread({ MOE_THREADS: '1' })).toBeNull();
  });
});

describe('a router-only sweep', () => {
  it('captures the same rows and routing as the full sweep, and refuses observers of expert outputs', async () => {
    const exec = new StreamingExecutor(model, { tokenChunk: 100 });
    const rng = xoshiro128ss(5);
    const x = tf.randomNormal([2 * 16, model.spec.hidden], 0, 1, 'float32', rng.int(1000)) as tf.Tensor2D;
    const batch = { hidden: x, batch: 2, seqLen: 16 };
    const grab = async (routerOnly: boolean) => {
      const c = new MoeInputCapture(LAYER, model.spec.hidden, {
        keepInputs: true,
        budgetBytes: 2 ** 30,
        dir,
      });
      (await exec.runLayer(LAYER, batch, c.observer(), { routerOnly })).dispose();
      return c.finish();
    };
    const full = await grab(false);
    const only = await grab(true);
    try {
      expect(only.chunks.map((c) => [c.n, [...c.experts]])).toEqual(
        full.chunks.map((c) => [c.n, [...c.experts]]),
      );
      for (let i = 0; i < full.chunks.length; i++) expect(only.rows(i)).toEqual(full.rows(i));
      expect(only.counts).toEqual(full.counts);
      await expect(exec.runLayer(LAYER, batch, { onExpert: () => {} }, { routerOnly: true })).rejects.toThrow(
        /router-only sweep runs no expert/,
      );
    } finally {
      full.dispose();
      only.dispose();
      x.dispose();
    }
  });
});

describe('the svd-llm step', () => {
  it('runs expert by expert from the checkpoint through the step contract, equal to the direct path', async () => {
    const ref = await compressExpertByExpert({
      method: svdLlmExpert,
      params: SvdLlmParams.parse({}),
      rank: RANK,
      source: checkpointSource(model),
      capture,
    });
    let driven: Map<number, LayerOverride> | null = null;
    try {
      const r = await driveStep(model, svdLlmDeclaration, { rank: RANK }, calibration, {
        batch: 2,
        exec: { tokenChunk: 100 },
        context: (overrides) => ({
          run: { model, calibration, batch: 2, overrides, dir: path.join(dir, 'step-scratch') },
        }),
      });
      driven = r.overrides;
      const rec = r.records.get(LAYER) as { capture: { bytesOnDisk: number }; tokens: number[] };
      expect(rec.tokens).toEqual(stats.experts.map((e) => e.tokens));
      expect(rec.capture.bytesOnDisk).toBe(0);
      const v = r.overrides.get(LAYER)!.moe!;
      for (let e = 0; e < model.spec.experts; e++)
        for (const p of ['gate', 'up', 'down'] as const)
          expect(product(v.experts[e]![p])).toEqual(product(ref.view.experts[e]![p]));
      // the scratch folder holds no spilled chunk once the layer is done
      const scratch = path.join(dir, 'step-scratch');
      expect(fs.existsSync(scratch) ? fs.readdirSync(scratch) : []).toEqual([]);
    } finally {
      disposeMoeView(ref.view);
      if (driven) disposeOverrides(driven);
    }
  });
});
