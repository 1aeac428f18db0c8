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
