// Expert pruning (expert-prune, METHODS §2.5 + REAP) and Unified Expert Drop (expert-drop, §4.3) on
// generated checkpoints, driven step by step without the runner. The scores the test checks against
// are recomputed here, independently, from the executor's hooks on the inputs each layer really saw
// (the already-pruned layers before it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { expertDropDeclaration } from '../../src-main/engine/methods/expert-drop.params';
import { ExpertPruneParams, expertPruneDeclaration } from '../../src-main/engine/methods/expert-prune.params';
import type { AnyMethodDeclaration } from '../../src-main/engine/methods/method';
import { ExpertScoreAccumulator } from '../../src-main/engine/methods/prune/expert-scores';
import { keepExperts } from '../../src-main/engine/methods/prune/keep-experts';
import { PRUNE_METRICS, type ScoreMetric } from '../../src-main/engine/methods/prune/score-metric';
import { globalLowest, lowestScored } from '../../src-main/engine/methods/prune/select';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { solveStep } from '../../src-main/engine/pipeline/budget';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { distributeRemovals } from '../../src-main/engine/pipeline/distribute';
import {
  layerStateOf,
  stateFromSpec,
  stateParams,
  stateWithOverrides,
} from '../../src-main/engine/pipeline/plan-state';
import { runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { batchesOf, disposeOverrides, driveStep, propagate } from '../support/drive-step';
import { type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'methods-prune-'));
const models = new Map<TinyArch, LoadedModel>();
const rng = xoshiro128ss(21);
const calibration = Array.from({ length: 6 }, () => Array.from({ length: 24 }, () => rng.int(256)));
/** 72-row batches in chunks of 32: several expert calls per batch */
const EXEC = { tokenChunk: 32 };
const m = (a: TinyArch) => models.get(a)!;

beforeAll(async () => {
  await initBackend();
  const make = (arch: TinyArch, layers: number, seed: number) => {
    writeTinyCheckpoint(path.join(root, arch), { arch, layers, seed });
    models.set(arch, openModel(path.join(root, arch)));
  };
  make('qwen3_moe', 3, 5); // 8 experts, top-2, renormalised top-k: applied weights ≠ probabilities
  make('mixtral', 4, 3);
  make('qwen2_moe', 3, 4); // layer 1 dense, shared expert + gate
  make('deepseek', 3, 6); // layer 0 dense, shared experts, top-3 not renormalised
  make('phimoe', 2, 7); // sparsemixer
});

afterAll(() => {
  for (const mo of models.values()) mo.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/**
 * Scores of layer l's experts recomputed from raw hook data in f64, on the inputs layers 0..l-1 of
 * `overrides` produce (layer l itself runs unpruned).
 */
async function referenceScores(
  model: LoadedModel,
  overrides: ReadonlyMap<number, LayerOverride>,
  l: number,
  metric: ScoreMetric,
  allExperts = false,
): Promise<number[]> {
  const N = model.spec.experts;
  const exec = new StreamingExecutor(model, {
    ...EXEC,
    overrides: new Map([...overrides].filter(([k]) => k < l)),
  });
  let xs = batchesOf(calibration, 3).map((b) => exec.embed(b));
  for (let j = 0; j < l; j++) xs = await propagate(exec, j, xs);
  const sum = new Float64Array(N);
  const cnt = new Float64Array(N);
  let seqs = 0;
  const norm = (d: Float32Array | Int32Array | Uint8Array, h: number, i: number) => {
    let s = 0;
    for (let j = 0; j < h; j++) s += d[i * h + j]! ** 2;
    return Math.sqrt(s);
  };
  for (const x of xs) {
    const y = await exec.runLayer(
      l,
      x,
      {
        onLayerInput: (e) => {
          seqs += e.batch;
        },
        onRouter: (e) => {
          const p = e.probs.dataSync();
          const k = e.topK;
          const n = e.experts.length / k;
          for (let t = 0; t < n; t++) {
            for (let j = 0; j < k; j++) {
              const ex = e.experts[t * k + j]!;
              if (metric === 'activation_frequency') sum[ex]! += 1;
              if (metric === 'sum_routing_weights') sum[ex]! += p[t * N + ex]!;
              if (metric === 'topk_mass') sum[ex]! += e.weights[t * k + j]!;
            }
            if (metric === 'softmax_mass') for (let ex = 0; ex < N; ex++) sum[ex]! += p[t * N + ex]!;
          }
        },
        onExpert: (e) => {
          const h = e.output.shape[1];
          const rows = e.rows.length;
          if (rows === 0) return;
          if (metric === 'input_l2_avg' || metric === 'output_l2_avg') {
            const d = (metric === 'input_l2_avg' ? e.input : e.output).dataSync();
            let s = 0;
            for (let i = 0; i < rows; i++) s += norm(d, h, i);
            sum[e.expert]! += s / rows;
            cnt[e.expert]! += 1;
          }
          if (metric === 'reap') {
            const d = e.output.dataSync();
            for (let i = 0; i < rows; i++) {
              sum[e.expert]! += e.weights[i]! * norm(d, h, i);
              cnt[e.expert]! += 1;
            }
          }
        },
      },
      { allExperts },
    );
    y.dispose();
    x.hidden.dispose();
  }
  exec.dispose();
  const s = [...sum];
  if (metric === 'activation_frequency') {
    const tot = s.reduce((a, b) => a + b, 0);
    return s.map((v) => v / tot);
  }
  if (metric === 'input_l2_avg' || metric === 'output_l2_avg' || metric === 'reap')
    return s.map((v, i) => (cnt[i]! > 0 ? v / cnt[i]! : 0));
  if (metric === 'softmax_mass' || metric === 'topk_mass') return s.map((v) => v / seqs);
  return s;
}

/**
 * The n lowest by a test-side sort (ties → lower index, the documented rule). Continuous scores must
 * leave a margin at the cut so rounding cannot decide it; counts (activation frequency) may tie.
 */
function lowestWithMargin(scores: number[], n: number, ties = false): number[] {
  const order = scores.map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s || a.i - b.i);
  if (!ties && n > 0 && n < scores.length)
    expect(order[n]!.s - order[n - 1]!.s).toBeGreaterThan(1e-6 * Math.abs(order[n]!.s));
  return order
    .slice(0, n)
    .map((x) => x.i)
    .sort((a, b) => a - b);
}

function expectClose(a: number[], b: number[], rel = 1e-4) {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(rel * Math.max(1e-9, Math.abs(b[i]!)));
  });
}

/** the pruned view keeps exactly the original router rows of the kept experts, in order */
function expectSlicedRouter(model: LoadedModel, l: number, o: LayerOverride, keptOriginal: number[]) {
  const v = o.moe!;
  const orig = readMoeView(model, l);
  try {
    const h = model.spec.hidden;
    const R = orig.router.dataSync();
    const r = v.router.dataSync();
    expect(v.router.shape).toEqual([keptOriginal.length, h]);
    keptOriginal.forEach((e, i) => {
      expect(r.slice(i * h, (i + 1) * h)).toEqual(R.slice(e * h, (e + 1) * h));
    });
    expect(v.sources).toEqual(keptOriginal.map((e) => [e]));
    expect(v.experts.length).toBe(keptOriginal.length);
    const W = (orig.experts[keptOriginal[0]!]!.down as { w: tf.Tensor2D }).w.dataSync();
    expect((v.experts[0]!.down as { w: tf.Tensor2D }).w.dataSync()).toEqual(W);
  } finally {
    disposeMoeView(orig);
  }
}

async function logits(
  model: LoadedModel,
  overrides: ReadonlyMap<number, LayerOverride>,
): Promise<Float32Array> {
  const exec = new StreamingExecutor(model, { overrides });
  const x = await exec.forward(exec.embed(calibration.slice(0, 2)));
  const parts: number[] = [];
  await exec.logitsChunks(x.hidden, (_r, lg) => {
    for (const v of lg.dataSync()) parts.push(v);
  });
  x.hidden.dispose();
  exec.dispose();
  return Float32Array.from(parts);
}

describe('§2.3 distribution of a global removal count', () => {
  it('P=275 over L=16 layers: layers 0–2 remove 18, layers 3–15 remove 17', () => {
    const r = distributeRemovals(275, Array(16).fill(64), Array(16).fill(1))!;
    expect(r).toEqual([18, 18, 18, ...Array(13).fill(17)]);
    expect(r.reduce((a, b) => a + b, 0)).toBe(275);
  });
  it('a layer that cannot give up its share passes it on; beyond the room → null', () => {
    expect(distributeRemovals(6, [2, 8, 8], [1, 1, 1])).toEqual([1, 3, 2]);
    expect(distributeRemovals(16, [2, 8, 8], [1, 1, 1])).toBeNull();
  });
});

describe('selection rules', () => {
  it('lowest scores, ties → lower index; the kept stay in original order', () => {
    expect(lowestScored([0.3, 0.1, 0.1, 0.5, 0], 3)).toEqual([1, 2, 4]);
    expect(lowestScored([1, 1, 1, 1], 2)).toEqual([0, 1]);
  });
  it('global threshold skips an expert whose layer would go below its minimum', () => {
    const r = globalLowest(
      [
        { layer: 0, scores: [0, 0, 0, 0.1], minExperts: 1 },
        { layer: 2, scores: [1, 2, 3, 0.5], minExperts: 1 },
      ],
      5,
    )!;
    expect(r.get(0)).toEqual([0, 1, 2]);
    expect(r.get(2)).toEqual([0, 3]);
    expect(globalLowest([{ layer: 0, scores: [1, 2], minExperts: 2 }], 1)).toBeNull();
  });
  it('experts no token reaches score 0', () => {
    const acc = new ExpertScoreAccumulator(0, 4, 'activation_frequency');
    const probs = tf.tensor2d([0.7, 0.2, 0.1, 0, 0.6, 0.3, 0.1, 0], [2, 4]);
    const logitsT = tf.zeros([2, 4]) as tf.Tensor2D;
    const input = tf.zeros([2, 3]) as tf.Tensor2D;
    acc.observer().onRouter!({
      layer: 0,
      input,
      rowStart: 0,
      logits: logitsT,
      probs,
      topK: 2,
      experts: Int32Array.from([0, 1, 0, 1]),
      weights: Float32Array.from([0.7, 0.2, 0.6, 0.3]),
    });
    expect(acc.scores()).toEqual([0.5, 0.5, 0, 0]);
    expect(new ExpertScoreAccumulator(0, 3, 'reap').scores()).toEqual([0, 0, 0]);
    tf.dispose([probs, logitsT, input]);
  });
});

describe('params', () => {
  it('at most one amount; calibrateAll only with output metrics', () => {
    const bad = ExpertPruneParams.safeParse({ expertsRemoved: 3, fraction: 0.1 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['fraction']);
    const all = ExpertPruneParams.safeParse({ metric: 'input_l2_avg', calibrateAll: true });
    expect(all.success).toBe(false);
    expect(all.error!.issues[0]!.path).toEqual(['calibrateAll']);
    expect(ExpertPruneParams.parse({})).toEqual({
      metric: 'activation_frequency',
      strategy: 'fixed',
      calibrateAll: false,
    });
    expect(expertDropDeclaration.params.safeParse({ preserve: 6, ratio: 0.2 }).success).toBe(false);
  });

  it('more experts removed than the layers can give up → solveStep names the knob', () => {
    const s = stateFromSpec(m('mixtral').spec);
    for (const raw of [{ expertsRemoved: 13 }, { fraction: 1 }]) {
      const params = ExpertPruneParams.parse(raw);
      try {
        solveStep({ decl: expertPruneDeclaration, params }, { kind: 'fixed' }, s, stateParams(s), 0, null);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        expect((e as EngineError).message).toMatch(/expertsRemoved 1[36] is outside .*\[0, 12\]/);
        expect((e as EngineError).field).toBe('steps.0.params');
      }
    }
  });
});

describe('expert-prune: the removed experts are the lowest-scored ones', () => {
  const cases: [string, Record<string, unknown>][] = [
    ...PRUNE_METRICS.map((metric): [string, Record<string, unknown>] => [metric, { metric }]),
    ['output_l2_avg calibrateAll', { metric: 'output_l2_avg', calibrateAll: true }],
    ['reap calibrateAll', { metric: 'reap', calibrateAll: true }],
  ];
  it.each(cases)('%s (fixed: 2 per layer)', async (_name, p) => {
    const model = m('qwen3_moe');
    const tensors = tf.memory().numTensors;
    const r = await driveStep(model, expertPruneDeclaration, { ...p, expertsRemoved: 6 }, calibration, {
      exec: EXEC,
    });
    expect(r.knobs).toEqual({ expertsRemoved: 6 });
    expect([...r.records.keys()]).toEqual([0, 1, 2]);
    for (const [l, rec] of r.records) {
      const ref = await referenceScores(
        model,
        r.overrides,
        l,
        p.metric as ScoreMetric,
        p.calibrateAll === true,
      );
      expectClose(rec.scores as number[], ref);
      const removed = lowestWithMargin(ref, 2, p.metric === 'activation_frequency');
      expect(rec.removedIndex).toEqual(removed);
      expect(rec.removed).toEqual(removed);
      const kept = [0, 1, 2, 3, 4, 5, 6, 7].filter((e) => !removed.includes(e));
      expect(rec.kept).toEqual(kept);
      expect(rec).toMatchObject({
        method: 'expert-prune',
        metric: p.metric,
        expertsBefore: 8,
        expertsAfter: 6,
        topK: 2,
      });
      expectSlicedRouter(model, l, r.overrides.get(l)!, kept);
      expect(r.overrides.get(l)!.moe!.routing).toEqual({ ...model.spec.routing, topK: 2 });
    }
    const lg = await logits(model, r.overrides);
    expect(lg.every(Number.isFinite)).toBe(true);
    disposeOverrides(r.overrides);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('strategy threshold: the per-layer counts come from the global ranking on the model before the step', async () => {
    const model = m('qwen3_moe');
    const r = await driveStep(
      model,
      expertPruneDeclaration,
      { metric: 'output_l2_avg', strategy: 'threshold', expertsRemoved: 7 },
      calibration,
      { exec: EXEC },
    );
    // the plan pass sees the unpruned model: layer l's inputs from the original layers 0..l-1
    const plan = await Promise.all(
      [0, 1, 2].map((l) => referenceScores(model, new Map(), l, 'output_l2_avg')),
    );
    const flat = plan
      .flatMap((s, l) => s.map((v, e) => ({ v, l, e })))
      .sort((a, b) => a.v - b.v || a.l - b.l || a.e - b.e);
    const counts = [0, 0, 0];
    for (const x of flat.slice(0, 7)) counts[x.l]!++;
    const d = r.decision as { removals: Record<string, number> };
    expect(d.removals).toEqual({ '0': counts[0], '1': counts[1], '2': counts[2] });
    for (const [l, rec] of r.records) {
      const ref = await referenceScores(model, r.overrides, l, 'output_l2_avg');
      expect(rec.removedIndex).toEqual(lowestWithMargin(ref, counts[l]!));
    }
    const total = [...r.overrides.values()].reduce((a, o) => a + (8 - o.moe!.experts.length), 0);
    expect(total).toBe(7);
    disposeOverrides(r.overrides);
  });

  it('removing nothing leaves the model bit-identical', async () => {
    const model = m('mixtral');
    const r = await driveStep(
      model,
      expertPruneDeclaration,
      { expertsRemoved: 0, metric: 'reap' },
      calibration,
    );
    expect(r.overrides.size).toBe(0);
    expect(r.records.size).toBe(0);
  });

  it.each(['mixtral', 'qwen2_moe', 'deepseek', 'phimoe'] as const)(
    '%s: a view keeping every expert gives bit-identical logits',
    async (arch) => {
      const model = m(arch);
      const overrides = new Map<number, LayerOverride>();
      for (let l = 0; l < model.spec.layers; l++) {
        if (model.spec.layerKinds[l] !== 'moe') continue;
        const v = readMoeView(model, l);
        overrides.set(l, {
          moe: keepExperts(
            v,
            v.experts.map((_, e) => e),
          ),
        });
        disposeMoeView(v);
      }
      expect(await logits(model, overrides)).toEqual(await logits(model, new Map()));
      disposeOverrides(overrides);
    },
  );
});

describe('knob accounting equals the params counted from the pruned views', () => {
  const cases: [TinyArch, AnyMethodDeclaration, Record<string, unknown>][] = [
    ['mixtral', expertPruneDeclaration, { expertsRemoved: 5 }],
    ['mixtral', expertPruneDeclaration, { expertsRemoved: 12, metric: 'sum_routing_weights' }],
    ['qwen2_moe', expertPruneDeclaration, { expertsRemoved: 5, metric: 'input_l2_avg' }],
    ['qwen2_moe', expertDropDeclaration, { fraction: 0.25 }],
    ['deepseek', expertPruneDeclaration, { fraction: 0.5, metric: 'reap' }],
    ['deepseek', expertDropDeclaration, { preserve: 5, mode: 'layerwise' }],
    ['phimoe', expertPruneDeclaration, { expertsRemoved: 4 }],
  ];
  it.each(cases.map(([a, d, p]) => [`${a} ${d.id} ${JSON.stringify(p)}`, a, d, p] as const))(
    '%s',
    async (_n, arch, decl, p) => {
      const model = m(arch);
      const r = await driveStep(model, decl, p, calibration);
      const k = r.knobs.expertsRemoved!;
      expect(k).toBeGreaterThan(0);
      const fromViews = stateWithOverrides(r.before, r.overrides);
      const planned = decl.knob.apply(r.params, r.before, k);
      expect(stateParams(fromViews)).toBe(stateParams(planned));
      // a global split (expert-drop mode global) differs per layer from the §2.3 plan, not in total
      const global = (r.params as { mode?: string }).mode === 'global';
      for (const l of global ? [] : planned.layers) {
        const got = layerStateOf(r.before.layers[l.layer]!, r.overrides.get(l.layer));
        expect({
          experts: got.experts,
          topK: got.topK,
          expertParams: got.expertParams,
          routerRow: got.routerRow,
          shared: got.shared,
        }).toEqual({
          experts: l.experts,
          topK: l.topK,
          expertParams: l.expertParams,
          routerRow: l.routerRow,
          shared: l.shared,
        });
      }
      if (arch === 'phimoe')
        for (const o of r.overrides.values()) expect(o.moe!.experts.length).toBeGreaterThanOrEqual(2);
      disposeOverrides(r.overrides);
    },
  );
});

describe('expert-drop (Unified §4.3)', () => {
  it('global: softmax mass per sequence, globally lowest dropped, counts from the plan pass', async () => {
    const model = m('qwen3_moe');
    const r = await driveStep(model, expertDropDeclaration, { preserve: 6 }, calibration, { exec: EXEC });
    expect(r.knobs).toEqual({ expertsRemoved: 6 });
    const plan = await Promise.all(
      [0, 1, 2].map((l) => referenceScores(model, new Map(), l, 'softmax_mass')),
    );
    // every token's probabilities sum to 1, so a layer's scores sum to the tokens per sequence
    for (const s of plan) expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(24, 3);
    const flat = plan
      .flatMap((s, l) => s.map((v, e) => ({ v, l, e })))
      .sort((a, b) => a.v - b.v || a.l - b.l || a.e - b.e);
    const counts = [0, 0, 0];
    for (const x of flat.slice(0, 6)) counts[x.l]!++;
    expect((r.decision as { removals: Record<string, number> }).removals).toEqual({
      '0': counts[0],
      '1': counts[1],
      '2': counts[2],
    });
    for (const [l, rec] of r.records) {
      const ref = await referenceScores(model, r.overrides, l, 'softmax_mass');
      expectClose(rec.scores as number[], ref);
      expect(rec.removedIndex).toEqual(lowestWithMargin(ref, counts[l]!));
      expect(rec.metric).toBe('softmax_mass');
    }
    disposeOverrides(r.overrides);
  });

  it('DeepSeek, layerwise: top-k weights scattered into a dense vector; preserve per layer', async () => {
    const model = m('deepseek');
    const r = await driveStep(model, expertDropDeclaration, { preserve: 6, mode: 'layerwise' }, calibration, {
      exec: EXEC,
    });
    expect(r.decision).toBeNull();
    expect([...r.records.keys()]).toEqual([1, 2]);
    for (const [l, rec] of r.records) {
      const ref = await referenceScores(model, r.overrides, l, 'topk_mass');
      expect(rec.metric).toBe('topk_mass');
      expectClose(rec.scores as number[], ref);
      expect(rec.removedIndex).toEqual(lowestWithMargin(ref, 2));
      expect(rec.topK).toBe(3);
    }
    disposeOverrides(r.overrides);
  });
});

describe('through runPipeline (runner v2)', () => {
  const cfg = (
    steps: { method: string; params?: Record<string, unknown> }[],
    target?: Record<string, unknown>,
  ) =>
    parsePipelineConfig({
      version: 2,
      name: 'prune',
      model: 'generated',
      calibration: { samples: 6, seqLen: 24, batch: 3 },
      ...(target ? { target } : {}),
      steps,
    });

  it('expert-prune (fixed): the run removes what the hand-driven step removes; exact accounting', async () => {
    const model = m('mixtral');
    const params = { metric: 'reap', expertsRemoved: 5 };
    const r = await runPipeline({
      model,
      config: cfg([{ method: 'expert-prune', params }]),
      calibration,
      workDir: path.join(root, 'run-prune'),
    });
    const d = await driveStep(model, expertPruneDeclaration, params, calibration);
    expect([...r.overrides.keys()]).toEqual([...d.overrides.keys()]);
    for (const [l, o] of r.overrides) expect(o.moe!.sources).toEqual(d.overrides.get(l)!.moe!.sources);
    for (const [l, rec] of d.records)
      expect(r.records.get(`0:${l}`)).toMatchObject({ removed: rec.removed, kept: rec.kept });
    expect(r.paramsAfter).toBe(
      stateParams(expertPruneDeclaration.knob.apply(d.params as ExpertPruneParams, d.before, 5)),
    );
    disposeOverrides(r.overrides);
    disposeOverrides(d.overrides);
  });

  it('expert-prune threshold from the budget, then svd on the pruned experts: on target', async () => {
    const model = m('qwen2_moe');
    const r = await runPipeline({
      model,
      config: cfg(
        [
          { method: 'expert-prune', params: { strategy: 'threshold', metric: 'output_l2_avg' } },
          { method: 'svd', params: {} },
        ],
        { ratio: 0.3, contributions: { P: 0.5, D: 0.5 } },
      ),
      calibration,
      workDir: path.join(root, 'run-prune-svd'),
    });
    expect(r.offTarget).toBeNull();
    const prune = r.plan.steps[0]!;
    expect(prune.knobs.expertsRemoved).toBeGreaterThan(0);
    const removals = (prune.decision as { removals: Record<string, number> }).removals;
    expect(Object.values(removals).reduce((a, b) => a + b, 0)).toBe(prune.knobs.expertsRemoved);
    for (const [l, o] of r.overrides) {
      expect(o.moe!.experts.length).toBe(8 - removals[String(l)]!);
      expect(o.moe!.experts.every((e) => e.gate.kind === 'factored')).toBe(true);
    }
    expect((await logits(model, r.overrides)).every(Number.isFinite)).toBe(true);
    disposeOverrides(r.overrides);
  });

  it('expert-drop (DeepSeek, preserve): per-layer counts and topK', async () => {
    const model = m('deepseek');
    const r = await runPipeline({
      model,
      config: cfg([{ method: 'expert-drop', params: { preserve: 5 } }]),
      calibration,
      workDir: path.join(root, 'run-drop'),
    });
    expect(r.plan.steps[0]!.knobs).toEqual({ expertsRemoved: 6 });
    const kept = [...r.overrides.values()].map((o) => o.moe!.experts.length);
    expect(kept.reduce((a, b) => a + b, 0)).toBe(10);
    for (const o of r.overrides.values())
      expect(o.moe!.routing.topK).toBe(Math.min(3, o.moe!.experts.length));
    expect(r.records.get('0:1')).toMatchObject({ method: 'expert-drop', metric: 'topk_mass' });
    disposeOverrides(r.overrides);
  });
});
