import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarize } from '../../src-main/engine/model/inspect';
import { openModel } from '../../src-main/engine/model/model';
import { stateFromSpec, stateParams } from '../../src-main/engine/pipeline/plan-state';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

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
        // every stored tensor once (what inspect counts) = the plan state counted from the config
        let total = 0;
        for (const n of model.checkpoint.names())
          total += model.checkpoint.info(n).shape.reduce((a, b) => a * b, 1);
        expect(total).toBe(summarize(model).params.total);
        expect(stateParams(stateFromSpec(spec))).toBe(total);
        // independent count from the config: routed experts of every MoE layer
        const h = spec.hidden;
        const I = spec.moeIntermediate;
        const moe = spec.layerKinds.filter((k) => k === 'moe').length;
        expect(summarize(model).params.experts).toBe(moe * spec.experts * 3 * h * I);
        const vocab = config.vocab_size as number;
        const embed = vocab * h * (spec.tieEmbeddings ? 1 : 2);
        expect(total).toBeGreaterThan(embed + moe * spec.experts * 3 * h * I);
      } finally {
        model.checkpoint.close();
      }
    },
  );
});
