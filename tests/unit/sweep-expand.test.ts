// Sweep specs expand exactly to the METHODS §2.2 grid (shares in steps from `start`, the last family
// taking the remainder, zero shares skipped), orders as permutations or lists, parameter axes as a
// product; identical resolved configs get one hash (and are listed once), the display name never
// counts; bad specs are refused naming the field.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { configHash } from '../../src-main/sweep/config-hash';
import { contributionPoints, expandSweep, gridValues } from '../../src-main/sweep/expand';
import { parseSweepSpec } from '../../src-main/sweep/sweep-spec';

const base = (steps: { method: string; params?: Record<string, unknown> }[]) => ({
  version: 2,
  name: 'b',
  model: 'tiny-mixtral',
  steps: steps.map((s) => ({ method: s.method, params: s.params ?? {} })),
});
const PMD = base([{ method: 'expert-prune' }, { method: 'expert-merge' }, { method: 'svd-llm' }]);

describe('contribution grid (METHODS §2.2)', () => {
  it('the 2025 driver grid: shares 0.1, 0.3, …, 0.9; c_D the remainder; zero shares skipped', () => {
    expect(gridValues({ step: 0.2, start: 0.1 })).toEqual([0.1, 0.3, 0.5, 0.7, 0.9]);
    const pts = contributionPoints(['P', 'M', 'D'], { step: 0.2, start: 0.1 });
    const expected: [number, number, number][] = [];
    for (const p of [0.1, 0.3, 0.5, 0.7, 0.9])
      for (const m of [0.1, 0.3, 0.5, 0.7, 0.9]) {
        const d = Number((1 - p - m).toFixed(9));
        if (d > 0) expected.push([p, m, d]);
      }
    expect(pts.map((c) => [c.P, c.M, c.D])).toEqual(expected);
    expect(pts).toHaveLength(10);
    for (const c of pts) expect(c.P! + c.M! + c.D!).toBeCloseTo(1, 12);
  });

  it('step 0.25 from 0.25: pairs have 3 points, the triple 3 (no zero share)', () => {
    expect(contributionPoints(['P', 'D'], { step: 0.25 }).map((c) => [c.P, c.D])).toEqual([
      [0.25, 0.75],
      [0.5, 0.5],
      [0.75, 0.25],
    ]);
    expect(contributionPoints(['P', 'M', 'D'], { step: 0.25 }).map((c) => [c.P, c.M, c.D])).toEqual([
      [0.25, 0.25, 0.5],
      [0.25, 0.5, 0.25],
      [0.5, 0.25, 0.25],
    ]);
    // start 0 yields zero shares, which are skipped
    expect(contributionPoints(['P', 'D'], { step: 0.5, start: 0 }).map((c) => [c.P, c.D])).toEqual([
      [0.5, 0.5],
    ]);
  });

  it('explicit lists: the product, a missing family takes the remainder, sums ≠ 1 are dropped', () => {
    expect(contributionPoints(['P', 'D'], { P: [0.2, 0.6] }).map((c) => [c.P, c.D])).toEqual([
      [0.2, 0.8],
      [0.6, 0.4],
    ]);
    expect(contributionPoints(['P', 'D'], { P: [0.2, 0.5], D: [0.5, 0.8] }).map((c) => [c.P, c.D])).toEqual([
      [0.2, 0.8],
      [0.5, 0.5],
    ]);
    expect(() => contributionPoints(['P', 'M', 'D'], { P: [0.5] })).toThrow(/no values for M and D/);
    expect(contributionPoints(['D'], { step: 0.25 })).toEqual([{ D: 1 }]);
  });
});

describe('expansion', () => {
  it('permutations × grid × ratios; shares are the same point in every order', () => {
    const spec = parseSweepSpec({
      version: 1,
      name: 's',
      base: base([{ method: 'expert-prune' }, { method: 'svd-llm' }]),
      axes: { ratio: [0.2, 0.4], contributions: { step: 0.25 }, orders: 'permutations' },
    });
    const pts = expandSweep(spec);
    expect(pts).toHaveLength(2 * 3 * 2);
    expect(new Set(pts.map((p) => p.hash)).size).toBe(pts.length);
    const pd = pts.filter((p) => p.order.join('') === 'PD');
    const dp = pts.filter((p) => p.order.join('') === 'DP');
    expect(dp.map((p) => [p.ratio, p.contributions])).toEqual(pd.map((p) => [p.ratio, p.contributions]));
    const one = dp[0]!;
    expect(one.config.steps.map((s) => s.method)).toEqual(['svd-llm', 'expert-prune']);
    expect(one.config.target).toMatchObject({ ratio: one.ratio, contributions: one.contributions });
  });

  it('subsets of the base steps as explicit orders (singles, pairs, the triple)', () => {
    const spec = parseSweepSpec({
      version: 1,
      name: 's',
      base: PMD,
      axes: {
        ratio: [0.2, 0.4],
        contributions: { step: 0.25 },
        orders: [['P'], ['M'], ['D'], ['P', 'D'], ['D', 'P'], ['M', 'D'], ['D', 'M'], ['P', 'M', 'D']],
      },
    });
    const pts = expandSweep(spec);
    expect(pts).toHaveLength(3 * 2 + 4 * 3 * 2 + 3 * 2);
    const single = pts.find((p) => p.order.join('') === 'M')!;
    expect(single.contributions).toEqual({ M: 1 });
    expect(single.config.steps.map((s) => s.method)).toEqual(['expert-merge']);
  });

  it('parameter axes are a product applied to the step of that family', () => {
    const spec = parseSweepSpec({
      version: 1,
      name: 's',
      base: base([{ method: 'expert-prune' }, { method: 'svd-llm' }]),
      axes: { ratio: [0.3], params: { 'P.metric': ['reap', 'activation_frequency'] } },
    });
    const pts = expandSweep(spec);
    expect(pts.map((p) => p.config.steps[0]!.params.metric)).toEqual(['reap', 'activation_frequency']);
    expect(pts[0]!.contributions).toEqual({ P: 0.5, D: 0.5 });
  });

  it('the same resolved config has the same hash: defaults spelled out or not, whatever the name', () => {
    const a = parseSweepSpec({
      version: 1,
      name: 'a',
      base: base([{ method: 'svd-llm' }]),
      axes: { ratio: [0.3] },
    });
    const b = parseSweepSpec({
      version: 1,
      name: 'another name',
      base: { ...base([{ method: 'svd-llm' }]), name: 'x', calibration: { dataset: 'calib' } },
      axes: { ratio: [0.3, 0.3] },
    });
    const [pa] = expandSweep(a);
    const pb = expandSweep(b);
    expect(pb).toHaveLength(1); // the repeated ratio is one run
    expect(pb[0]!.hash).toBe(pa!.hash);
    expect(configHash({ ...pa!.config, name: 'renamed' })).toBe(pa!.hash);
    const c = parseSweepSpec({
      version: 1,
      name: 'a',
      base: base([{ method: 'svd-llm' }]),
      axes: { ratio: [0.31] },
    });
    expect(expandSweep(c)[0]!.hash).not.toBe(pa!.hash);
  });

  it('bad specs name the field, the value and what is allowed', () => {
    const bad = (raw: unknown) => {
      try {
        expandSweep(parseSweepSpec(raw));
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ version: 1, name: 's', base: PMD, axes: { ratio: [1.2] } })).toMatch(
      /axes\.ratio\.0: 1\.2 is too large/,
    );
    expect(bad({ version: 1, name: 's', base: PMD, axes: { ratio: [0.2], orders: [['P', 'Q']] } })).toMatch(
      /axes\.orders\.0: family Q has no step in the base pipeline/,
    );
    expect(bad({ version: 1, name: 's', base: PMD, axes: { ratio: [0.2], bogus: 1 } })).toMatch(
      /unknown field 'bogus'/,
    );
    expect(bad({ version: 1, name: 's', base: { ...PMD, steps: [] }, axes: { ratio: [0.2] } })).toMatch(
      /steps/,
    );
    expect(
      bad({ version: 1, name: 's', base: PMD, axes: { ratio: [0.2], params: { metric: ['reap'] } } }),
    ).toMatch(/FAMILY\.param/);
  });
});

describe('sweep surfaces', () => {
  it('simplex cells per ratio, A→B vs B→A at the same shares, best single/pair/triple and per level', async () => {
    const { sweepSurfaces } = await import('../../src-main/contract/sweep-surfaces');
    const pt = (
      ratio: number,
      order: string[],
      contributions: Record<string, number>,
      ppl: number | undefined,
      status = 'succeeded',
    ) => ({
      hash: `${ratio}${order.join('')}${JSON.stringify(contributions)}`,
      ratio,
      order,
      contributions,
      status,
      runId: 1,
      metrics: (ppl === undefined ? {} : { ppl }) as Record<string, number>,
    });
    const s = sweepSurfaces([
      pt(0.2, ['P'], { P: 1 }, 30),
      pt(0.2, ['D'], { D: 1 }, 25),
      pt(0.2, ['P', 'D'], { P: 0.5, D: 0.5 }, 22),
      pt(0.2, ['D', 'P'], { P: 0.5, D: 0.5 }, 24),
      pt(0.2, ['P', 'M', 'D'], { P: 0.25, M: 0.25, D: 0.5 }, 23),
      pt(0.4, ['D'], { D: 1 }, 60),
      pt(0.4, ['P', 'D'], { P: 0.5, D: 0.5 }, Number.NaN),
      pt(0.4, ['D', 'P'], { P: 0.5, D: 0.5 }, 50, 'failed'),
    ]);
    expect(s.ratios).toEqual([0.2, 0.4]);
    expect(s.simplex['0.2']).toHaveLength(5);
    expect(s.simplex['0.4']).toHaveLength(1); // NaN and failed points are left out
    expect(s.orderSensitivity).toEqual([
      expect.objectContaining({
        forward: 'P→D',
        backward: 'D→P',
        ratio: 0.2,
        forwardValue: 22,
        backwardValue: 24,
        delta: -2,
      }),
    ]);
    expect(s.bestOf.map((b) => [b.ratio, b.size, b.order, b.value])).toEqual([
      [0.2, 1, 'D', 25],
      [0.2, 2, 'P→D', 22],
      [0.2, 3, 'P→M→D', 23],
      [0.4, 1, 'D', 60],
    ]);
    expect(s.bestStrategy.map((b) => [b.ratio, b.order])).toEqual([
      [0.2, 'P→D'],
      [0.4, 'D'],
    ]);
  });
});
