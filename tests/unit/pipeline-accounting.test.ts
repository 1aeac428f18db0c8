import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarize } from '../../src-main/engine/model/inspect';
import { openModel } from '../../src-main/engine/model/model';
import {
  checkpointParams,
  denseExpertParams,
  solveUniformRank,
} from '../../src-main/engine/pipeline/accounting';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

// OLMoE-1B-7B constants of METHODS §2.1
const B = 476_710_912;
const FULL = 6_291_456;
const UNIT = 9216;
const N_TOT = 1024;
const T = B + N_TOT * FULL;

describe('solveUniformRank (§2.2 D-step)', () => {
  it('reproduces the D-only test vector: a=0.5 → svd_rank 316, achieved 0.50010', () => {
    expect(T).toBe(6_919_161_856);
    const s = solveUniformRank({ before: T, kept: B, unit: N_TOT * UNIT, ratio: 0.5, cap: 682 });
    expect(s.kind).toBe('rank');
    if (s.kind !== 'rank') return;
    expect(s.rank).toBe(316);
    expect(s.after).toBe(B + N_TOT * 316 * UNIT);
    expect(s.achieved.toFixed(5)).toBe('0.50010');
  });

  it('ratio 0 is a no-op; tiny ratios clamp at the break-even cap; huge ones at rank 1', () => {
    expect(solveUniformRank({ before: T, kept: B, unit: N_TOT * UNIT, ratio: 0, cap: 682 })).toEqual({
      kind: 'unchanged',
      after: T,
      achieved: 0,
    });
    const small = solveUniformRank({ before: T, kept: B, unit: N_TOT * UNIT, ratio: 0.001, cap: 682 });
    expect(small).toMatchObject({ kind: 'rank', rank: 682 });
    const big = solveUniformRank({ before: T, kept: B, unit: N_TOT * UNIT, ratio: 0.99, cap: 682 });
    expect(big).toMatchObject({ kind: 'rank', rank: 1 });
  });

  it('picks the closest of floor / ceil / round', () => {
    // kept 0, unit 10, before 1000: ratio 0.5 → t = 500 → r* = 50 exactly; 0.456 → 54.4 → 54
    expect(solveUniformRank({ before: 1000, kept: 0, unit: 10, ratio: 0.456, cap: 100 })).toMatchObject({
      rank: 54,
    });
    expect(solveUniformRank({ before: 1000, kept: 0, unit: 10, ratio: 0.444, cap: 100 })).toMatchObject({
      rank: 56,
    });
  });
});

describe('exact parameter counts on generated checkpoints', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acct-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['mixtral', 'qwen2_moe', 'deepseek', 'olmoe', 'qwen3_moe', 'phimoe'] as const)(
    '%s: total from shapes matches the config-derived count',
    (arch) => {
      const d = path.join(dir, arch);
      const { config } = writeTinyCheckpoint(d, { arch, layers: 3 });
      const model = openModel(d);
      try {
        const { spec } = model;
        const total = checkpointParams(model);
        expect(total).toBe(summarize(model).params.total);
        // independent count from the config: routed experts of every MoE layer
        const h = spec.hidden;
        const I = spec.moeIntermediate;
        const moe = spec.layerKinds.filter((k) => k === 'moe').length;
        expect(summarize(model).params.experts).toBe(
          moe * denseExpertParams({ hidden: h, intermediate: I, experts: spec.experts }),
        );
        const vocab = config.vocab_size as number;
        const embed = vocab * h * (spec.tieEmbeddings ? 1 : 2);
        expect(total).toBeGreaterThan(embed + moe * spec.experts * 3 * h * I);
      } finally {
        model.checkpoint.close();
      }
    },
  );
});

describe('solvePlan: layer set and rank', () => {
  const shape = { hidden: 64, intermediate: 128, experts: 8, topK: 2 };
  const dense = denseExpertParams(shape);
  const before = 10 * dense + 1_000_000; // 10 MoE layers + other params

  it('svd: every MoE layer, uniform rank closest to the target', async () => {
    const { solvePlan } = await import('../../src-main/engine/pipeline/runner');
    const { svd } = await import('../../src-main/engine/methods/svd');
    const p = solvePlan(svd, svd.params.parse({}), shape, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], before, 0.3);
    expect(p.layers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const unit = 10 * 8 * 3 * (64 + 128);
    const real = ((1 - 0.3) * before - (before - 10 * dense)) / unit;
    expect(Math.abs(p.rank! - real)).toBeLessThanOrEqual(0.5);
    expect(p.predictedAfter).toBe(before - 10 * dense + p.rank! * unit);
    expect(solvePlan(svd, svd.params.parse({ keepRatio: 0.5 }), shape, [0, 1], before, null).rank).toBe(
      Math.floor((0.5 * 64 * 128) / 192),
    );
  });

  it('moe-svd: least sensitive layers first, edges protected, rank ≥ layerRankFraction·min(h, I)', async () => {
    const { solvePlan } = await import('../../src-main/engine/pipeline/runner');
    const { moeSvd } = await import('../../src-main/engine/methods/moe-svd');
    const sens = new Map([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((l) => [l, [0, 9, 1, 8, 2, 7, 3, 6, 4, 5][l]!]));
    const params = moeSvd.params.parse({});
    const p = solvePlan(moeSvd, params, shape, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], before, 0.2, sens);
    expect(p.layers).not.toContain(0);
    expect(p.layers).not.toContain(9);
    expect(p.rank!).toBeGreaterThanOrEqual(32);
    // the chosen layers are a prefix of the ascending-sensitivity order 2, 4, 6, 8, 7, 5, 3, 1
    const order = [2, 4, 6, 8, 7, 5, 3, 1];
    expect([...p.layers].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(
      order.slice(0, p.layers.length),
    );
    expect(Math.abs(1 - p.predictedAfter / before - 0.2)).toBeLessThan(0.01);
  });

  it('moe-svd: when one more layer at full rank would overshoot, the set closest to the target wins', async () => {
    const { solvePlan } = await import('../../src-main/engine/pipeline/runner');
    const { moeSvd } = await import('../../src-main/engine/methods/moe-svd');
    const sh = { hidden: 128, intermediate: 256, experts: 8, topK: 2 };
    const d = denseExpertParams(sh);
    const total = 8 * d + 8 * 49_152 + 69_632;
    const sens = new Map([0, 1, 2, 3, 4, 5, 6, 7].map((l) => [l, l]));
    const p = solvePlan(moeSvd, moeSvd.params.parse({}), sh, [0, 1, 2, 3, 4, 5, 6, 7], total, 0.2, sens);
    expect(Math.abs(1 - p.predictedAfter / total - 0.2)).toBeLessThan(0.005);
    expect(p.layers).toEqual([1, 2]);
  });
});
