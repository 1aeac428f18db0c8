// expert-merge (METHODS §2.6, §2.7): identity at as many groups as experts, the fusion rules, the
// grouping tie rules on hand-built matrices, the similarity statistics against their dense
// definitions, exact accounting against the shared group knob, factored merging in both modes, and
// the step through runPipeline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { factorizeExperts } from '../../src-main/engine/methods/expert-factorize';
import { expertMerge, fusionRule } from '../../src-main/engine/methods/expert-merge';
import { ExpertMergeParams, expertMergeDeclaration } from '../../src-main/engine/methods/expert-merge.params';
import {
  cosine,
  lerp,
  SLERP_EPS,
  slerp,
  slerpSequential,
  weightedMean,
} from '../../src-main/engine/methods/merge/fusion';
import {
  averageLinkageGroups,
  dominantGroups,
  type SimilarityMatrix,
  singleLinkageGroups,
} from '../../src-main/engine/methods/merge/grouping';
import { groupsPerLayer } from '../../src-main/engine/methods/merge/knob';
import { mergeView } from '../../src-main/engine/methods/merge/merge-view';
import {
  MergeStatsCollector,
  pick,
  vectorSimilarity,
  weightSimilarity,
} from '../../src-main/engine/methods/merge/similarity';
import type { CurrentLayer, LayerSweep, StepContext } from '../../src-main/engine/methods/method';
import { type HiddenBatch, StreamingExecutor } from '../../src-main/engine/model/executor';
import { checkMoeView, disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import {
  type ModelPlanState,
  stateFromSpec,
  stateParams,
  stateWithOverrides,
} from '../../src-main/engine/pipeline/plan-state';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { forwardLogits } from '../support/forward-logits';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'methods-merge-'));
const models: Record<'mixtral' | 'qwen2_moe' | 'deepseek', LoadedModel> = {} as never;
const rng = xoshiro128ss(17);
const calibration = Array.from({ length: 4 }, () => Array.from({ length: 20 }, () => rng.int(256)));

beforeAll(async () => {
  await initBackend();
  const make = (arch: 'mixtral' | 'qwen2_moe' | 'deepseek', layers: number, seed: number) => {
    writeTinyCheckpoint(path.join(root, arch), { arch, layers, seed });
    models[arch] = openModel(path.join(root, arch));
  };
  make('mixtral', 2, 5);
  make('qwen2_moe', 3, 6);
  make('deepseek', 3, 7);
});

afterAll(() => {
  for (const m of Object.values(models)) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const logits = (m: LoadedModel, overrides: Map<number, LayerOverride>) =>
  forwardLogits(m, overrides, calibration.slice(0, 2));

function contextFor(
  m: LoadedModel,
  raw: Record<string, unknown>,
  k: number,
  before: ModelPlanState,
): StepContext<ExpertMergeParams> {
  const params = ExpertMergeParams.parse(raw);
  return {
    spec: m.spec,
    params,
    knobs: { groups: k },
    planned: expertMergeDeclaration.knob.apply(params, before, k),
    before,
    decision: null,
    step: 0,
    scratch: new Map(),
  };
}

/**
 * The step driven directly, layer by layer as the runner does: statistics on the inputs the current
 * layers 0..l-1 produce, apply, install, propagate. `force` applies to layers the step would not touch.
 */
async function runMerge(
  m: LoadedModel,
  raw: Record<string, unknown>,
  k: number,
  opts: { force?: boolean; prior?: Map<number, LayerOverride>; tokenChunk?: number } = {},
) {
  const prior = opts.prior ?? new Map<number, LayerOverride>();
  const before = stateWithOverrides(stateFromSpec(m.spec), prior);
  const ctx = contextFor(m, raw, k, before);
  const overrides = new Map(prior);
  const exec = new StreamingExecutor(m, {
    overrides,
    ...(opts.tokenChunk ? { tokenChunk: opts.tokenChunk } : {}),
  });
  const batches: HiddenBatch[] = [exec.embed(calibration.slice(0, 2)), exec.embed(calibration.slice(2, 4))];
  const records = new Map<number, Record<string, unknown>>();
  const touched: number[] = [];
  for (let l = 0; l < m.spec.layers; l++) {
    if (m.spec.layerKinds[l] === 'moe') {
      const prev = overrides.get(l)?.moe;
      const view = prev ?? readMoeView(m, l);
      const cur: CurrentLayer = {
        layer: l,
        kind: 'moe',
        view,
        ffnDropped: false,
        blockDropped: false,
        plan: before.layers[l]!,
      };
      const sweep: LayerSweep = async (obs, o) => {
        for (const b of batches) (await exec.runLayer(l, b, obs, o ?? {})).dispose();
      };
      const t = expertMerge.touches(ctx, cur);
      if (t) touched.push(l);
      if (t || opts.force) {
        const stats = await expertMerge.collect!(ctx, cur, sweep);
        const r = await expertMerge.apply(ctx, cur, stats);
        overrides.set(l, r.override!);
        records.set(l, r.record);
        disposeMoeView(view);
      } else if (!prev) disposeMoeView(view);
    }
    for (let i = 0; i < batches.length; i++) {
      const y = await exec.runLayer(l, batches[i]!);
      batches[i]!.hidden.dispose();
      batches[i] = { ...batches[i]!, hidden: y };
    }
  }
  tf.dispose(batches.map((b) => b.hidden));
  exec.dispose();
  return { overrides, records, ctx, touched };
}

const totalExperts = (m: LoadedModel) => m.spec.layerKinds.filter((k) => k === 'moe').length * m.spec.experts;

describe('expert-merge: identity', () => {
  it.each([
    ['mixtral', { grouping: 'dominant', similarity: 'weight', metric: 'l2' }],
    ['mixtral', { grouping: 'global', similarity: 'output', metric: 'cosine' }],
    ['qwen2_moe', { grouping: 'dominant', similarity: 'router_logits', metric: 'cosine' }],
    ['qwen2_moe', { grouping: 'hc-smoe' }],
    ['deepseek', { grouping: 'global', similarity: 'weight', metric: 'l2', fusion: 'frequency' }],
  ] as const)('%s %j: as many groups as experts gives bit-identical logits', async (arch, raw) => {
    const m = models[arch];
    const before = tf.memory().numTensors;
    const { overrides, records, touched } = await runMerge(m, raw, totalExperts(m), { force: true });
    expect(touched).toEqual([]);
    expect(overrides.size).toBe(m.spec.layerKinds.filter((k) => k === 'moe').length);
    for (const [l, o] of overrides) {
      expect(o.moe!.experts.length).toBe(m.spec.experts);
      expect(o.moe!.sources).toEqual(Array.from({ length: m.spec.experts }, (_, e) => [e]));
      const r = records.get(l)!;
      expect(r.groups).toEqual(Array.from({ length: m.spec.experts }, (_, e) => [e]));
      expect((r.frequency as number[]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      expect(r.similaritySeconds).toBeGreaterThanOrEqual(0);
    }
    expect(await logits(m, overrides)).toEqual(await logits(m, new Map()));
    disposeOverrides(overrides);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('expert-merge: fusion rules', () => {
  const t = (v: number[]) => tf.tensor2d(v, [2, v.length / 2]);

  it('SLERP of two equal matrices returns them; the vectors are not normalised', () => {
    const a = t([0.3, -1.2, 2.5, 0.7, -0.1, 4]);
    const b = t([0.3, -1.2, 2.5, 0.7, -0.1, 4]);
    for (const tt of [0.5, 1 / 3, 0.25]) {
      const s = slerp(a, b, tt);
      const d = s.dataSync();
      const e = a.dataSync();
      for (let i = 0; i < e.length; i++)
        expect(Math.abs(d[i]! - e[i]!)).toBeLessThanOrEqual(Math.abs(e[i]!) * 1e-6);
      s.dispose();
    }
    const same = slerpSequential([a, b, a]);
    expect(
      Array.from(same.dataSync())
        .map((x, i) => Math.abs(x - a.dataSync()[i]!))
        .every((x) => x < 1e-5),
    ).toBe(true);
    // (2,0) and (0,1), t = ½: ω = π/2 → sin(π/4)·(2,0) + sin(π/4)·(0,1), lengths kept (not normalised)
    const p = tf.tensor1d([2, 0]);
    const q = tf.tensor1d([0, 1]);
    const r = slerp(p, q, 0.5).dataSync();
    expect(r[0]).toBeCloseTo(Math.SQRT2, 6);
    expect(r[1]).toBeCloseTo(Math.SQRT1_2, 6);
    tf.dispose([a, b, same, p, q]);
  });

  it('sequential SLERP: acc = M_1, acc = slerp(acc, M_i, 1/i) (checked in f64)', () => {
    const ms = [
      [1, 0, 0],
      [0, 2, 0],
      [0, 0, 3],
    ];
    const sl = (a: number[], b: number[], tt: number) => {
      const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
      const w = Math.acos(dot / Math.hypot(...a) / Math.hypot(...b));
      return a.map(
        (x, i) => (Math.sin((1 - tt) * w) / Math.sin(w)) * x + (Math.sin(tt * w) / Math.sin(w)) * b[i]!,
      );
    };
    const want = sl(sl(ms[0]!, ms[1]!, 1 / 2), ms[2]!, 1 / 3);
    const ts = ms.map((v) => tf.tensor1d(v));
    const got = slerpSequential(ts);
    Array.from(got.dataSync()).forEach((x, i) => {
      expect(x).toBeCloseTo(want[i]!, 5);
    });
    tf.dispose([...ts, got]);
  });

  it('small angles fall back to the linear blend', () => {
    const a = tf.tensor1d([1, 2, 3, 4]);
    const b = tf.tensor1d([1, 2, 3, 4.000001]);
    const c = cosine(a, b)!;
    expect(Math.sin(Math.acos(c))).toBeLessThan(SLERP_EPS);
    const want = tf.tidy(() => tf.add(tf.mul(a, 0.75), tf.mul(b, 0.25)));
    const got = slerp(a, b, 0.25);
    expect(got.dataSync()).toEqual(want.dataSync());
    // a zero vector has no angle: linear as well (the reference would produce NaN)
    const z = tf.zeros([4]);
    const gz = slerp(z, a, 0.5);
    expect(Array.from(gz.dataSync())).toEqual([0.5, 1, 1.5, 2]);
    tf.dispose([a, b, want, got, z, gz]);
  });

  it('LERP of a group is the element-wise mean; frequency weighting normalises the weights', () => {
    const r = xoshiro128ss(3);
    const vals = Array.from({ length: 3 }, () => Array.from({ length: 12 }, () => r.next() * 2 - 1));
    const ts = vals.map((v) => tf.tensor2d(v, [3, 4]));
    const mean = lerp(ts).dataSync();
    for (let i = 0; i < 12; i++)
      expect(mean[i]).toBeCloseTo((vals[0]![i]! + vals[1]![i]! + vals[2]![i]!) / 3, 6);
    const wm = weightedMean(ts, [0.2, 0.6, 0.2]).dataSync();
    for (let i = 0; i < 12; i++)
      expect(wm[i]).toBeCloseTo((0.2 * vals[0]![i]! + 0.6 * vals[1]![i]! + 0.2 * vals[2]![i]!) / 1, 6);
    const w0 = weightedMean(ts, [0, 0, 0]).dataSync();
    for (let i = 0; i < 12; i++) expect(w0[i]).toBeCloseTo(mean[i]!, 6);
    tf.dispose(ts);
  });

  it("fusion 'auto' is coupled to the metric as in the reference (hc-smoe: frequency)", () => {
    const p = (x: Record<string, unknown>) => ExpertMergeParams.parse(x);
    expect(fusionRule(p({}))).toBe('lerp');
    expect(fusionRule(p({ metric: 'cosine' }))).toBe('slerp');
    expect(fusionRule(p({ grouping: 'hc-smoe' }))).toBe('frequency');
    expect(fusionRule(p({ metric: 'cosine', fusion: 'lerp' }))).toBe('lerp');
    expect(() => p({ groups: 3, fraction: 0.5 })).toThrow(/at most one amount/);
  });
});

describe('expert-merge: grouping (METHODS §2.6 step 3)', () => {
  // symmetric 5×5 from the upper triangle
  const sym = (u: Record<string, number>, fill: number): number[][] =>
    Array.from({ length: 5 }, (_, i) =>
      Array.from({ length: 5 }, (_, j) => (i === j ? 0 : (u[`${Math.min(i, j)}${Math.max(i, j)}`] ?? fill))),
    );

  it('dominant: leaders by frequency (ties → lower index), members to the closest leader (ties → first leader)', () => {
    const imp = [0.1, 0.4, 0.2, 0.2, 0.1]; // order 1, 2, 3 (tie with 2: lower index first), 0, 4
    const d = sym({ '01': 0.5, '02': 0.5, '13': 0.9, '23': 0.3, '14': 0.2, '24': 0.7 }, 5);
    const l2 = dominantGroups({ metric: 'l2', values: d }, imp, 2);
    expect(l2.leaders).toEqual([1, 2]);
    expect(l2.groups).toEqual([
      [1, 0, 4], // 0: tie 0.5/0.5 → leader 1 (first in importance order); 4: 0.2 < 0.7
      [2, 3], // 3: 0.3 < 0.9
    ]);
    // the same numbers read as cosine similarities: the larger wins
    const cos = dominantGroups({ metric: 'cosine', values: d }, imp, 2);
    expect(cos.groups).toEqual([
      [1, 0, 3],
      [2, 4],
    ]);
    // g = 3 takes expert 3 over 0 and 4 as the third leader; singletons allowed
    const g3 = dominantGroups({ metric: 'l2', values: d }, imp, 3);
    expect(g3.leaders).toEqual([1, 2, 3]);
    expect(g3.groups).toEqual([[1, 0, 4], [2], [3]]);
    // all importances equal: the lowest indices lead
    expect(dominantGroups({ metric: 'l2', values: d }, [1, 1, 1, 1, 1], 2).leaders).toEqual([0, 1]);
  });

  it('global single linkage: pairs in index order, strict improvement; link = min L2 between members', () => {
    const d = sym({ '01': 1, '23': 1, '12': 1.5, '34': 2 }, 9);
    const s: SimilarityMatrix = { metric: 'l2', values: d };
    const uni = [1, 1, 1, 1, 1];
    expect(singleLinkageGroups(s, uni, 4).groups).toEqual([[0, 1], [2], [3], [4]]); // (0,1) before the tie (2,3)
    expect(singleLinkageGroups(s, uni, 3).groups).toEqual([[0, 1], [2, 3], [4]]);
    // min link {0,1}–{2,3} = d12 = 1.5 beats {2,3}–{4} = d34 = 2
    expect(singleLinkageGroups(s, uni, 2).groups).toEqual([[0, 1, 2, 3], [4]]);
    // average linkage on the same matrix: (9+9+1.5+9)/4 = 7.125 loses to (9+2)/2 = 5.5
    expect(averageLinkageGroups(s, uni, 2).groups).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    // cosine: max link; the most frequent member leads its group
    const c = sym({ '01': 0.9, '23': 0.9, '12': 0.5, '34': 0.4 }, -0.2);
    const gc = singleLinkageGroups({ metric: 'cosine', values: c }, [0.1, 0.1, 0.1, 0.5, 0.2], 2);
    expect(gc.groups).toEqual([[3, 0, 1, 2], [4]]);
    expect(gc.leaders).toEqual([3, 4]);
  });

  it('HC-SMoE: average linkage on constructed vectors (L2)', () => {
    // 1-D points embedded in R³: 0, 1, 10, 10.5, 5.8
    const xs = [0, 1, 10, 10.5, 5.8].map((x) => Float64Array.from([x, 0, 0]));
    const sim = pick(vectorSimilarity(xs), 'l2');
    expect(sim.values[2]![3]).toBeCloseTo(0.5, 5);
    // {2,3} (0.5), then {0,1} (1), then 4 joins {2,3}: mean 4.45 < mean 5.3 to {0,1}
    expect(averageLinkageGroups(sim, [1, 1, 1, 1, 1], 2).groups).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    expect(averageLinkageGroups(sim, [1, 1, 1, 1, 1], 3).groups).toEqual([[0, 1], [2, 3], [4]]);
  });
});

describe('expert-merge: similarity statistics', () => {
  it('weight similarity: per-projection cosine / L2 of the flattened matrices, averaged', () => {
    const m = models.mixtral;
    const view = readMoeView(m, 0);
    const s = weightSimilarity(view.experts, 2000); // a small block forces several blocks
    const flat = view.experts.map((e) =>
      (['gate', 'up', 'down'] as const).map((p) =>
        Float64Array.from((e[p] as { w: tf.Tensor }).w.dataSync()),
      ),
    );
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let c = 0;
        let d = 0;
        for (let p = 0; p < 3; p++) {
          const a = flat[i]![p]!;
          const b = flat[j]![p]!;
          let ab = 0;
          let aa = 0;
          let bb = 0;
          let dd = 0;
          for (let x = 0; x < a.length; x++) {
            ab += a[x]! * b[x]!;
            aa += a[x]! ** 2;
            bb += b[x]! ** 2;
            dd += (a[x]! - b[x]!) ** 2;
          }
          c += ab / Math.sqrt(aa * bb) / 3;
          d += Math.sqrt(dd) / 3;
        }
        expect(s.cosine[i]![j]).toBeCloseTo(c, 4);
        expect(s.l2[i]![j]).toBeCloseTo(d, 3);
      }
    disposeMoeView(view);
  });

  it('router_logits and output similarity and the frequency equal their dense definitions (several token chunks)', async () => {
    const m = models.qwen2_moe;
    const N = m.spec.experts;
    const h = m.spec.hidden;
    const exec = new StreamingExecutor(m, { tokenChunk: 16 });
    const c = new MergeStatsCollector(0, N, h, { routerLogits: true, output: true, meanOutputs: true });
    const inner = c.observer();
    // dense reference: per batch the [T, N] logits and per expert the [T, h] routed weighted outputs
    const perBatch: { logits: Float64Array; Y: Float64Array[]; T: number }[] = [];
    const counts = new Float64Array(N);
    const sums = Array.from({ length: N }, () => new Float64Array(h));
    let cur: (typeof perBatch)[number];
    const obs = {
      ...inner,
      onLayerInput: (e: { layer: number; hidden: tf.Tensor2D; batch: number; seqLen: number }) => {
        const T = e.hidden.shape[0];
        cur = {
          logits: new Float64Array(T * N),
          Y: Array.from({ length: N }, () => new Float64Array(T * h)),
          T,
        };
        perBatch.push(cur);
        return inner.onLayerInput!(e);
      },
      onRouter: (e: Parameters<NonNullable<typeof inner.onRouter>>[0]) => {
        cur.logits.set(e.logits.dataSync(), e.rowStart * N);
        for (const x of e.experts) counts[x]! += 1;
        return inner.onRouter!(e);
      },
      onExpert: (e: Parameters<NonNullable<typeof inner.onExpert>>[0]) => {
        const o = e.output.dataSync();
        e.rows.forEach((r, i) => {
          for (let j = 0; j < h; j++) {
            cur.Y[e.expert]![r * h + j] = e.weights[i]! * o[i * h + j]!;
            sums[e.expert]![j]! += o[i * h + j]!;
          }
        });
        return inner.onExpert!(e);
      },
    };
    for (const seqs of [calibration.slice(0, 2), calibration.slice(2, 4)]) {
      const x = exec.embed(seqs);
      (await exec.runLayer(0, x, obs)).dispose();
      x.hidden.dispose();
    }
    exec.dispose();
    const s = c.result();
    expect(s.batches).toBe(2);
    const totalSel = counts.reduce((a, b) => a + b, 0);
    s.frequency.forEach((f, e) => {
      expect(f).toBeCloseTo(counts[e]! / totalSel, 12);
    });
    const cosL = Array.from({ length: N }, () => new Array<number>(N).fill(0));
    const l2L = Array.from({ length: N }, () => new Array<number>(N).fill(0));
    const cosO = Array.from({ length: N }, () => new Array<number>(N).fill(0));
    const l2O = Array.from({ length: N }, () => new Array<number>(N).fill(0));
    for (const b of perBatch) {
      const col = (e: number) => Float64Array.from({ length: b.T }, (_, t) => b.logits[t * N + e]!);
      const unit = b.Y.map((y) => {
        const mu = y.reduce((a, v) => a + v, 0) / y.length;
        const z = y.map((v) => v - mu);
        const n = Math.sqrt(z.reduce((a, v) => a + v * v, 0));
        return n > 0 ? z.map((v) => v / n) : z.fill(0);
      });
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) {
          const a = col(i);
          const bb = col(j);
          const dot = a.reduce((acc, v, t) => acc + v * bb[t]!, 0);
          cosL[i]![j]! += dot / Math.hypot(...a) / Math.hypot(...bb) / 2;
          l2L[i]![j]! += Math.sqrt(a.reduce((acc, v, t) => acc + (v - bb[t]!) ** 2, 0)) / 2;
          cosO[i]![j]! += unit[i]!.reduce((acc, v, t) => acc + v * unit[j]![t]!, 0) / 2;
          l2O[i]![j]! += Math.sqrt(unit[i]!.reduce((acc, v, t) => acc + (v - unit[j]![t]!) ** 2, 0)) / 2;
        }
    }
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        expect(s.routerLogits!.cosine[i]![j]).toBeCloseTo(cosL[i]![j]!, 4);
        expect(s.routerLogits!.l2[i]![j]).toBeCloseTo(l2L[i]![j]!, 3);
        expect(s.output!.cosine[i]![j]).toBeCloseTo(cosO[i]![j]!, 4);
        expect(s.output!.l2[i]![j]).toBeCloseTo(l2O[i]![j]!, 4);
      }
    for (let e = 0; e < N; e++)
      for (let j = 0; j < h; j++)
        expect(s.meanOutputs![e]![j]).toBeCloseTo(counts[e]! > 0 ? sums[e]![j]! / counts[e]! : 0, 5);
  });
});

describe('expert-merge: router, sources, accounting', () => {
  it.each(['mixtral', 'deepseek'] as const)(
    '%s: installed views account exactly as the group knob plans; router rows are the members’ mean',
    async (arch) => {
      const m = models[arch];
      const N = m.spec.experts;
      const moeLayers = m.spec.layerKinds.filter((k) => k === 'moe').length;
      for (const [raw, k] of [
        [{}, moeLayers * N - 3],
        [{ grouping: 'global', similarity: 'output', metric: 'cosine' }, moeLayers + 1],
        [{ grouping: 'hc-smoe', fraction: 0.5 }, Math.round(0.5 * moeLayers * N)],
      ] as const) {
        const state0 = stateFromSpec(m.spec);
        const { overrides, records, ctx } = await runMerge(m, raw, k);
        const planned = expertMergeDeclaration.knob.apply(ctx.params, state0, k);
        expect(stateParams(stateWithOverrides(state0, overrides))).toBe(stateParams(planned));
        const split = groupsPerLayer(state0, k)!;
        split.layers.forEach((ls, i) => {
          const g = split.groups[i]!;
          const o = overrides.get(ls.layer)?.moe;
          if (g === N) {
            expect(o).toBeUndefined();
            return;
          }
          expect(o!.experts.length).toBe(g);
          expect(o!.routing.topK).toBe(Math.min(m.spec.routing.topK, g));
          checkMoeView(o!);
          const groups = records.get(ls.layer)!.groups as number[][];
          expect(o!.sources).toEqual(groups);
          expect(groups.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, e) => e));
          // router row of a group = mean of the members' rows (original router)
          const orig = readMoeView(m, ls.layer);
          const R = orig.router.arraySync();
          const got = o!.router.arraySync();
          groups.forEach((gr, gi) => {
            for (let j = 0; j < m.spec.hidden; j++)
              expect(got[gi]![j]).toBeCloseTo(gr.reduce((a, e) => a + R[e]![j]!, 0) / gr.length, 6);
          });
          // shared expert untouched
          if (orig.shared)
            expect(o!.shared!.gate.kind === 'dense' && o!.shared!.gate.w.dataSync()).toEqual(
              (orig.shared.gate as { w: tf.Tensor }).w.dataSync(),
            );
          disposeMoeView(orig);
        });
        expect((await logits(m, overrides)).every(Number.isFinite)).toBe(true);
        disposeOverrides(overrides);
      }
    },
  );

  it('a dense group expert is the fused projections of its members (LERP and frequency)', async () => {
    const m = models.mixtral;
    for (const fusion of ['lerp', 'frequency'] as const) {
      const { overrides, records } = await runMerge(m, { fusion }, 3); // layer 0: 1 group, layer 1: 2
      const orig = readMoeView(m, 0);
      const r = records.get(0)!;
      const f = r.frequency as number[];
      const w = fusion === 'lerp' ? [1, 1, 1, 1] : f;
      const ws = w.reduce((a, b) => a + b, 0);
      const merged = overrides.get(0)!.moe!.experts[0]!;
      for (const p of ['gate', 'up', 'down'] as const) {
        const want = orig.experts.map((e) => (e[p] as { w: tf.Tensor }).w.dataSync());
        const got = (merged[p] as { w: tf.Tensor }).w.dataSync();
        for (let x = 0; x < got.length; x += 37)
          expect(got[x]).toBeCloseTo(
            want.reduce((a, v, e) => a + (w[e]! / ws) * v[x]!, 0),
            6,
          );
      }
      expect(overrides.get(0)!.moe!.routing.topK).toBe(1);
      disposeMoeView(orig);
      disposeOverrides(overrides);
    }
  });
});

describe('expert-merge: factored experts (D before M)', () => {
  const RANK = 6;

  async function factored(m: LoadedModel, sharedB = false): Promise<Map<number, LayerOverride>> {
    const prior = new Map<number, LayerOverride>();
    const svd = { method: 'exact', oversampling: 10, powerIters: 2, seed: 0 } as const;
    for (let l = 0; l < m.spec.layers; l++) {
      if (m.spec.layerKinds[l] !== 'moe') continue;
      const v = readMoeView(m, l);
      const f = factorizeExperts(v, RANK, (_e, _p, dim) => ({ kind: 'identity', dim }), svd).view;
      disposeMoeView(v);
      if (sharedB) {
        // every expert's down projection shares expert 0's B (V-sharing shape)
        const B0 = (f.experts[0]!.down as { B: tf.Tensor2D }).B;
        for (const e of f.experts.slice(1)) {
          const d = e.down as { kind: 'factored'; A: tf.Tensor2D; B: tf.Tensor2D };
          d.B.dispose();
          d.B = B0;
        }
      }
      prior.set(l, { moe: f });
    }
    return prior;
  }

  it.each(['factors', 'reconstruct'] as const)(
    "factoredMerge '%s': valid views, every matrix factored at the same rank, exact accounting",
    async (mode) => {
      const m = models.mixtral;
      const prior = await factored(m);
      const before = stateWithOverrides(stateFromSpec(m.spec), prior);
      const { overrides, records, ctx } = await runMerge(
        m,
        { factoredMerge: mode, svd: { method: 'exact' } },
        4,
        { prior },
      );
      for (const l of [0, 1]) {
        const v = overrides.get(l)!.moe!;
        checkMoeView(v);
        expect(v.experts.length).toBe(2);
        for (const e of v.experts)
          for (const L of [e.gate, e.up, e.down]) {
            expect(L.kind).toBe('factored');
            if (L.kind === 'factored') expect([L.A.shape[1], L.B.shape[0]]).toEqual([RANK, RANK]);
          }
        expect(records.get(l)!.factoredMerge).toBe(mode);
      }
      expect(stateParams(stateWithOverrides(stateFromSpec(m.spec), overrides))).toBe(
        stateParams(expertMergeDeclaration.knob.apply(ctx.params, before, 4)),
      );
      expect((await logits(m, overrides)).every(Number.isFinite)).toBe(true);
      disposeOverrides(overrides);
    },
  );

  it("'reconstruct' is the best rank-r fit of the fused product; 'factors' fuses A and B separately", () => {
    const m = models.mixtral;
    const v = readMoeView(m, 0);
    const svd = { method: 'exact', oversampling: 10, powerIters: 2, seed: 0 } as const;
    const f = factorizeExperts(v, RANK, (_e, _p, dim) => ({ kind: 'identity', dim }), svd).view;
    const groups = [[0, 1, 2], [3]];
    const opts = (factoredMerge: 'factors' | 'reconstruct') => ({
      rule: 'lerp' as const,
      factoredMerge,
      svd,
    });
    const a = mergeView(f, groups, [1, 1, 1, 1], opts('factors'));
    const b = mergeView(f, groups, [1, 1, 1, 1], opts('reconstruct'));
    for (const p of ['gate', 'up', 'down'] as const) {
      const fl = (L: unknown) => L as { A: tf.Tensor2D; B: tf.Tensor2D };
      const target = tf.tidy(() =>
        tf.div(tf.addN([0, 1, 2].map((e) => tf.matMul(fl(f.experts[e]![p]).A, fl(f.experts[e]![p]).B))), 3),
      );
      const err = (L: unknown) =>
        tf.tidy(() => tf.norm(tf.sub(tf.matMul(fl(L).A, fl(L).B), target)).dataSync()[0]!);
      const meanA = tf.tidy(() => tf.div(tf.addN([0, 1, 2].map((e) => fl(f.experts[e]![p]).A)), 3));
      expect(fl(a.experts[0]![p]).A.dataSync()).toEqual(meanA.dataSync());
      expect(err(b.experts[0]![p])).toBeLessThanOrEqual(err(a.experts[0]![p]) * (1 + 1e-5));
      // the singleton is carried over exactly
      expect(fl(b.experts[1]![p]).A.dataSync()).toEqual(fl(f.experts[3]![p]).A.dataSync());
      tf.dispose([target, meanA]);
    }
    for (const x of [v, f, a, b]) disposeMoeView(x);
  });

  it("'factors' keeps a factor every member shares as one tensor object", async () => {
    const m = models.mixtral;
    const prior = await factored(m, true);
    const { overrides } = await runMerge(m, {}, 4, { prior });
    const v = overrides.get(0)!.moe!;
    const Bs = new Set(v.experts.map((e) => (e.down as { B: tf.Tensor }).B));
    expect(Bs.size).toBe(1);
    checkMoeView(v);
    disposeOverrides(overrides);
  });
});

describe('expert-merge through runPipeline', () => {
  const cfg = (steps: unknown[], target?: unknown) =>
    parsePipelineConfig({
      version: 2,
      name: 'merge',
      model: 'generated',
      calibration: { samples: 4, seqLen: 20, batch: 2 },
      ...(target ? { target } : {}),
      steps,
    });

  it('fraction 0.5: paramsAfter equals the plan; records name the groups', async () => {
    const m = models.mixtral;
    const r = await runPipeline({
      model: m,
      config: cfg([{ method: 'expert-merge', params: { fraction: 0.5 } }]),
      calibration,
      workDir: path.join(root, 'w-merge'),
    });
    expect(r.plan.planned[0]!.knobs).toEqual({ groups: 4 });
    expect(r.paramsAfter).toBe(r.plan.planned[0]!.paramsAfter);
    expect(r.overrides.size).toBe(2);
    for (const [, rec] of r.records) {
      expect(rec.method).toBe('expert-merge');
      expect((rec.groups as number[][]).length).toBe(2);
    }
    disposeOverrides(r.overrides);
  });

  it('M → svd with contributions {M: 0.5, D: 0.5}: paramsAfter equals the plan', async () => {
    const m = models.mixtral;
    const r = await runPipeline({
      model: m,
      config: cfg([{ method: 'expert-merge' }, { method: 'svd' }], {
        ratio: 0.4,
        contributions: { M: 0.5, D: 0.5 },
      }),
      calibration,
      workDir: path.join(root, 'w-merge-svd'),
    });
    expect(r.plan.steps[0]!.noop).toBe(false);
    expect(r.plan.steps[0]!.paramsAfter).toBe(r.plan.planned[0]!.paramsAfter);
    expect(r.paramsAfter).toBe(r.plan.planned[1]!.paramsAfter);
    expect(r.offTarget).toBeNull();
    const v = r.overrides.get(0)!.moe!;
    expect(v.experts.every((e) => e.gate.kind === 'factored')).toBe(true);
    expect(v.experts.length).toBeLessThan(m.spec.experts);
    disposeOverrides(r.overrides);
  });
});
