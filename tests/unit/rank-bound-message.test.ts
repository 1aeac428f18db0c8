// A fixed rank past what the model allows is refused naming the rank the user gave and the real
// admissible range (issue 17: `svd` with `rank 100000` read "rank 64 is outside [1, 32]": the rank
// was clamped to min(hidden, intermediate) before the range check). Checked through the app's
// pipeline validation, what the UI, `pipelines.validate` and `moe-bench plan` report.
import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../src-main/app/services/pipeline-validation';
import { createResolver, sourceTreeRoots } from '../../src-main/engine/io/resolver';
import { perExpertCap } from '../../src-main/engine/methods/lowrank/knob';
import { loadModelSpec } from '../../src-main/engine/model/registry';

const config = (method: string, rank: number) => ({
  version: 2,
  name: 'p',
  model: 'tiny-mixtral',
  steps: [{ method, params: { rank } }],
});

const spec = loadModelSpec(
  createResolver({ baseDir: process.cwd(), ...sourceTreeRoots() }).resolveModel('tiny-mixtral'),
).spec;
const minDim = Math.min(spec.hidden, spec.intermediate);

describe('a fixed rank outside the admissible range', () => {
  it('the per-expert break-even cap of the tiny model is below min(hidden, intermediate): a clamp to it shows', () => {
    expect(perExpertCap(spec)).toBeLessThan(minDim);
  });

  it.each(['svd', 'asvd', 'svd-llm', 'moe-svd'])(
    '%s: names the rank given and the range it allows',
    (method) => {
      const first = validatePipelineConfig(config(method, 100000));
      expect(first).toHaveLength(1);
      const m = /^([\w-]+): rank 100000 is outside what this model allows, \[1, (\d+)\]$/.exec(
        first[0]!.message,
      );
      expect(m, first[0]!.message).not.toBeNull();
      expect(first[0]!.path).toBe('steps.0.params.rank');
      const cap = Number(m![2]);
      // the range is the real one: its top is accepted, one past it is refused naming that value
      expect(validatePipelineConfig(config(method, cap))).toEqual([]);
      for (const rank of [cap + 1, minDim + 1]) {
        expect(validatePipelineConfig(config(method, rank))).toEqual([
          {
            path: 'steps.0.params.rank',
            message: `${method}: rank ${rank} is outside what this model allows, [1, ${cap}]`,
          },
        ]);
      }
    },
  );
});
