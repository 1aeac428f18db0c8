// Planning P or M after a step that shares factors across experts (MoE-SVD's V, D²-MoE's base and
// ShareV/MergeU): an expert leaving takes only its own tensors, the shared ones stay. The plan's
// withExpertCount must agree with the exact count of the view that really has fewer experts.
import { beforeAll, describe, expect, it } from 'vitest';
import { d2Apply } from '../../src-main/engine/methods/d2moe/accounting';
import { decompose } from '../../src-main/engine/methods/lowrank/knob';
import { moeSvdAccounting } from '../../src-main/engine/methods/moe-svd.params';
import type { ExpertWeights, Linear, MoeLayerView } from '../../src-main/engine/model/types';
import {
  type LayerPlanState,
  layerStateOf,
  type ModelPlanState,
  withExpertCount,
} from '../../src-main/engine/pipeline/plan-state';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

const h = 6;
const I = 10;
const N = 4;
const r = 3;

const base: LayerPlanState = {
  layer: 0,
  kind: 'moe',
  blockDropped: false,
  ffnDropped: false,
  attention: 100,
  postNorm: h,
  denseMlp: 0,
  shared: 0,
  experts: N,
  topK: 2,
  minExperts: 1,
  routerRow: h,
  expertParams: N * 3 * h * I,
  form: 'dense',
  rank: null,
};

const z = (rows: number, cols: number) => tf.zeros([rows, cols]) as tf.Tensor2D;
const view = (experts: ExpertWeights[]): MoeLayerView => ({
  layer: 0,
  router: z(experts.length, h),
  experts,
  routing: { kind: 'softmax-topk', topK: 2, normTopK: false, normEps: 0 },
});

beforeAll(async () => {
  await initBackend();
});

describe('shared expert factors in the plan state', () => {
  it('shared V (MoE-SVD): removing experts keeps the V, and the plan agrees with the view', () => {
    const V = { gate: z(r, h), up: z(r, h), down: z(r, I) };
    const expert = (): ExpertWeights => ({
      gate: { kind: 'factored', A: z(I, r), B: V.gate },
      up: { kind: 'factored', A: z(I, r), B: V.up },
      down: { kind: 'factored', A: z(h, r), B: V.down },
    });
    const all = Array.from({ length: N }, expert);
    const full = layerStateOf(base, { moe: view(all) });
    expect(full.sharedExpertParams).toBe(r * (2 * h + I));
    expect(full.expertParams).toBe(r * (2 * h + I) + N * r * (2 * I + h));
    for (const kept of [1, 2, 3]) {
      const exact = layerStateOf(base, { moe: view(all.slice(0, kept)) });
      const planned = withExpertCount(full, kept);
      expect(planned.expertParams).toBe(exact.expertParams);
    }
  });

  it('decompose() with MoE-SVD accounting declares the V as shared; withExpertCount follows', () => {
    const s: ModelPlanState = {
      hidden: h,
      intermediate: I,
      globalParams: 0,
      bytesPerParam: 4,
      layers: [base],
    };
    const p = { uTrimming: 'equation', uKeep: 0 } as unknown as Parameters<
      typeof moeSvdAccounting.unitPerRank
    >[1];
    const d = decompose(moeSvdAccounting, p, s, [0], r).layers[0]!;
    expect(d.sharedExpertParams).toBe(r * (2 * h + I));
    expect(withExpertCount(d, 2).expertParams).toBe(r * (2 * h + I) + 2 * r * (2 * I + h));
  });

  it('D²-MoE base + ShareV: the base and V stay, per-expert U leave', () => {
    const s: ModelPlanState = {
      hidden: h,
      intermediate: I,
      globalParams: 0,
      bytesPerParam: 4,
      layers: [base],
    };
    const acc = { ppRatio: 0, shareV: true, mergeU: false, trimDeltas: 0, ignoreLayers: [] };
    const l = d2Apply(acc, s, r).layers[0]!;
    const B = { gate: z(I, h), up: z(I, h), down: z(h, I) };
    const V = { gate: z(r, h), up: z(r, h), down: z(r, I) };
    const expert = (): ExpertWeights => {
      const d = (b: tf.Tensor2D, A: tf.Tensor2D, Bv: tf.Tensor2D): Linear => ({
        kind: 'delta',
        base: b,
        A,
        B: Bv,
      });
      return {
        gate: d(B.gate, z(I, r), V.gate),
        up: d(B.up, z(I, r), V.up),
        down: d(B.down, z(h, r), V.down),
      };
    };
    const all = Array.from({ length: N }, expert);
    expect(layerStateOf(base, { moe: view(all) }).expertParams).toBe(l.expertParams);
    expect(layerStateOf(base, { moe: view(all) }).sharedExpertParams).toBe(l.sharedExpertParams);
    expect(withExpertCount(l, 2).expertParams).toBe(
      layerStateOf(base, { moe: view(all.slice(0, 2)) }).expertParams,
    );
  });

  it('MoE-SVD with k < N kept U matrices: the U clusters are shared too', () => {
    const s: ModelPlanState = {
      hidden: h,
      intermediate: I,
      globalParams: 0,
      bytesPerParam: 4,
      layers: [base],
    };
    const p = { uTrimming: 'equation', uKeep: 2 } as unknown as Parameters<
      typeof moeSvdAccounting.unitPerRank
    >[1];
    const d = decompose(moeSvdAccounting, p, s, [0], r).layers[0]!;
    const V = { gate: z(r, h), up: z(r, h), down: z(r, I) };
    const U = [0, 1].map(() => ({ gate: z(I, r), up: z(I, r), down: z(h, r) }));
    const all = Array.from({ length: N }, (_, e): ExpertWeights => {
      const u = U[e % 2]!;
      return {
        gate: { kind: 'factored', A: u.gate, B: V.gate },
        up: { kind: 'factored', A: u.up, B: V.up },
        down: { kind: 'factored', A: u.down, B: V.down },
      };
    });
    const full = layerStateOf(base, { moe: view(all) });
    expect(full.expertParams).toBe(d.expertParams);
    expect(full.sharedExpertParams).toBe(d.sharedExpertParams);
    // experts 0 and 1 still hold both U clusters
    expect(withExpertCount(d, 2).expertParams).toBe(
      layerStateOf(base, { moe: view(all.slice(0, 2)) }).expertParams,
    );
  });

  it('dense experts share nothing: the per-expert share is the average', () => {
    expect(withExpertCount(base, 3).expertParams).toBe(3 * 3 * h * I);
  });
});
