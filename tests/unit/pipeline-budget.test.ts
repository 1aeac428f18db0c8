// The whole-model budget (METHODS §2.2, §2.3): the seven §2.2 test vectors with the OLMoE-1B-7B
// constants, the 2025 closed form of the fixed order P→M→D, the per-layer distributions, and the
// refusals (contributions, unreachable targets, impossible knobs) before any compute.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { groupKnob } from '../../src-main/engine/methods/merge/knob';
import type { MethodDeclaration } from '../../src-main/engine/methods/method';
import { expertRemovalKnob } from '../../src-main/engine/methods/prune/knob';
import { svdDeclaration } from '../../src-main/engine/methods/svd.params';
import {
  assertReachable,
  planBudget,
  type StepInput,
  searchKnob,
} from '../../src-main/engine/pipeline/budget';
import { distributeGroups, distributeRemovals } from '../../src-main/engine/pipeline/distribute';
import { type ModelPlanState, stateParams } from '../../src-main/engine/pipeline/plan-state';

// OLMoE-1B-7B as §2.1 counts it: B = 476 710 912 non-expert params, 16 layers × 64 experts of
// 3·h·I = 6 291 456 params, 3·(h+I) = 9216 params per unit of rank, rank cap 682
const B = 476_710_912;
const FULL = 6_291_456;
const olmoe = (): ModelPlanState => ({
  hidden: 2048,
  intermediate: 1024,
  globalParams: 0,
  bytesPerParam: 2,
  layers: Array.from({ length: 16 }, (_, l) => ({
    layer: l,
    kind: 'moe' as const,
    blockDropped: false,
    ffnDropped: false,
    attention: B / 16,
    postNorm: 0,
    denseMlp: 0,
    shared: 0,
    experts: 64,
    topK: 8,
    minExperts: 1,
    routerRow: 0,
    expertParams: 64 * FULL,
    form: 'dense' as const,
    rank: null,
  })),
});
const T = 6_919_161_856;

// budget-driven P and M steps with the shared expert-count knobs (the real expert-prune /
// expert-merge declarations use the same knobs)
const decl = (id: string, family: 'P' | 'M', knob: MethodDeclaration['knob']): MethodDeclaration => ({
  id,
  family,
  title: id,
  description: id,
  params: null as never,
  knob,
  load: () => Promise.reject(new Error('not used')),
});
const P = decl(
  'P',
  'P',
  expertRemovalKnob<unknown>(() => null),
);
const M = decl(
  'M',
  'M',
  groupKnob(() => null),
);
const D = svdDeclaration as unknown as MethodDeclaration;
const step = (x: string): StepInput => ({
  decl: { P, M, D }[x as 'P']!,
  params: x === 'D' ? { svd: {} } : {},
});

describe('§2.2 any-order solver: the seven test vectors (OLMoE constants)', () => {
  it('the model state reproduces T', () => expect(stateParams(olmoe())).toBe(T));
  it.each([
    [0.5, 0, 0, 'PMD', 0, null, 316, 0.5001],
    [0.5, 1, 0, 'PMD', 550, null, null, 0.5001],
    [0.5, 0, 1, 'PMD', 0, 474, null, 0.5001],
    [0.5, 0.5, 0, 'PMD', 275, null, 432, 0.50013],
    [0.3, 0.3, 0.3, 'PMD', 99, 826, 574, 0.29959],
    [0.5, 0.3, 0.3, 'MPD', 165, 859, 466, 0.50034],
    [0.5, 0.3, 0.3, 'DPM', 210, 604, 536, 0.49989],
  ])(
    'a=%f c_P=%f c_M=%f %s → pruning %i, groups %s, rank %s, achieved %f',
    (a, cP, cM, order, np, ng, r, achieved) => {
      const plan = planBudget([...order].map(step), olmoe(), {
        ratio: a,
        contributions: { P: cP, M: cM, D: +(1 - cP - cM).toFixed(12) },
      });
      const by = Object.fromEntries([...order].map((x, i) => [x, plan.steps[i]!]));
      expect(by.P!.knobs.expertsRemoved ?? 0).toBe(np);
      expect(by.M!.knobs.groups ?? null).toBe(ng);
      expect(by.D!.knobs.rank ?? null).toBe(r);
      expect(plan.achievedRatio).toBeCloseTo(achieved, 5);
    },
  );
});

describe('§2.2 D-step edge cases', () => {
  it('ratio 0 is a no-op; tiny ratios clamp at the break-even cap 682; huge ones at rank 1', () => {
    const r0 = planBudget([step('D')], olmoe(), { ratio: 0 });
    expect(r0.steps[0]!.noop).toBe(true);
    expect(r0.paramsAfter).toBe(T);
    expect(planBudget([step('D')], olmoe(), { ratio: 0.001 }).steps[0]!.knobs.rank).toBe(682);
    expect(planBudget([step('D')], olmoe(), { ratio: 0.99 }).steps[0]!.knobs.rank).toBe(1);
  });
  it('picks the closest of floor / ceil (f(k) = 10k: t = 544 → 54, t = 556 → 56; a tie → the smaller)', () => {
    const f = (k: number) => 10 * k;
    expect(searchKnob(f, 1, 100, 544).k).toBe(54);
    expect(searchKnob(f, 1, 100, 556).k).toBe(56);
    expect(searchKnob(f, 1, 100, 555).k).toBe(55);
    expect(searchKnob(f, 1, 100, 545).k).toBe(54);
    // decreasing knob (experts removed): same rule
    expect(searchKnob((k) => 1000 - 10 * k, 0, 99, 456).k).toBe(54);
  });
});

describe('§2.2: the 2025 closed form of P→M→D agrees with the solver', () => {
  // Python round: banker's rounding on exact .5
  const pyRound = (x: number) => {
    const f = Math.floor(x);
    const d = x - f;
    return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  };
  const grid: [number, number, number][] = [];
  for (const a of [0.1, 0.3, 0.5, 0.7])
    for (const cP of [0.1, 0.3, 0.5, 0.7])
      for (const cM of [0.1, 0.3, 0.5, 0.7]) if (cP + cM < 0.95) grid.push([a, cP, cM]);
  it.each(grid)('a=%f c_P=%f c_M=%f', (a, cP, cM) => {
    const n = 1024;
    const x = pyRound(n - (T * (1 - a * cP) - B) / FULL);
    const g = pyRound((T * (1 - a * (cP + cM)) - B) / FULL);
    const r = pyRound((T * (1 - a) - B) / (g * 9216));
    const plan = planBudget(['P', 'M', 'D'].map(step), olmoe(), {
      ratio: a,
      contributions: { P: cP, M: cM, D: +(1 - cP - cM).toFixed(12) },
    });
    expect([
      plan.steps[0]!.knobs.expertsRemoved,
      plan.steps[1]!.knobs.groups,
      plan.steps[2]!.knobs.rank,
    ]).toEqual([x, g, r]);
  });
});

describe('§2.3 per-layer distribution', () => {
  it('pruning P=275 over 16 layers → 18, 18, 18, 17 × 13', () => {
    expect(distributeRemovals(275, Array(16).fill(64), Array(16).fill(1))).toEqual([
      18,
      18,
      18,
      ...Array(13).fill(17),
    ]);
  });
  it('merging G=474 over 16 layers → 29 × 6, 30 × 10 (the extra ones to the last layers)', () => {
    expect(distributeGroups(474, Array(16).fill(64))).toEqual([...Array(6).fill(29), ...Array(10).fill(30)]);
  });
  it('a layer never keeps fewer than its minimum; the excess moves on; impossible totals are null', () => {
    expect(distributeRemovals(7, [4, 8], [1, 1])).toEqual([3, 4]);
    expect(distributeRemovals(10, [4, 8], [1, 1])).toEqual([3, 7]);
    expect(distributeRemovals(11, [4, 8], [1, 1])).toBeNull();
    expect(distributeRemovals(4, [4, 8], [2, 2])).toEqual([2, 2]);
    expect(distributeGroups(1, [4, 8])).toBeNull();
  });
});

describe('refusals before any compute, naming the field', () => {
  const fails = (f: () => unknown, field: string, msg: RegExp) => {
    try {
      f();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).field).toBe(field);
      expect((e as Error).message).toMatch(msg);
    }
  };
  it('contributions must sum to 1 and name only families of budget-driven steps', () => {
    fails(
      () => planBudget(['P', 'D'].map(step), olmoe(), { ratio: 0.4, contributions: { P: 0.5, D: 0.6 } }),
      'target.contributions',
      /sum to 1\.1/,
    );
    fails(
      () => planBudget(['P', 'D'].map(step), olmoe(), { ratio: 0.4, contributions: { P: 0.5, M: 0.5 } }),
      'target.contributions.M',
      /family M/,
    );
  });
  it('a budget no knob can reach is refused with the reachable value', () => {
    // D alone cannot remove more than the experts' share (rank ≥ 1)
    const plan = planBudget([step('D')], olmoe(), { ratio: 0.97 });
    fails(
      () => assertReachable(plan),
      'target.ratio',
      /reaches a whole-model ratio of 0\.92\d+, not the target 0\.97.*rank 1/,
    );
  });
  it('an explicit amount outside the knob range is refused', () => {
    const fixed = decl(
      'P',
      'P',
      expertRemovalKnob(() => 2000),
    );
    fails(
      () => planBudget([{ decl: fixed, params: {} }], olmoe(), {}),
      'steps.0.params',
      /expertsRemoved 2000 is outside .*\[0, 1008\]/,
    );
  });
  it('no amount and no target', () => {
    fails(() => planBudget([step('P')], olmoe(), {}), 'target.ratio', /no compression amount/);
  });
  it('equal shares by default; the resolved shares are in the plan', () => {
    const plan = planBudget(['P', 'D'].map(step), olmoe(), { ratio: 0.4 });
    expect(plan.steps.map((s) => s.amount)).toEqual([
      { kind: 'share', family: 'P', contribution: 0.5 },
      { kind: 'share', family: 'D', contribution: 0.5 },
    ]);
    expect(Math.abs(plan.achievedRatio - 0.4)).toBeLessThanOrEqual(plan.tolerance);
  });
});
