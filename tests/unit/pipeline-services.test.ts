// The pipeline services' checks against the real engine declarations and the built-in tiny-mixtral
// (shapes only, no tfjs compute): schema problems first, then the plan's, each on its field; the
// method list straight from the catalog with family and knob.
import { describe, expect, it } from 'vitest';
import { methodInfos } from '../../src-main/app/services/methods';
import { checkPipeline, validatePipelineConfig } from '../../src-main/app/services/pipeline-validation';
import { MethodInfo, PipelinePlanResult } from '../../src-main/contract/index';
import { METHODS } from '../../src-main/engine/methods/catalog';

const base = { version: 2, name: 'p', model: 'tiny-mixtral', target: { ratio: 0.2 } };

describe('methods.list', () => {
  it('lists every catalog method with its family, knob and params schema', () => {
    const list = methodInfos();
    expect(list.map((m) => m.id)).toEqual([...METHODS.keys()]);
    for (const m of list) {
      expect(MethodInfo.parse(m)).toEqual(m);
      expect(m.family).toBe(METHODS.get(m.id)!.family);
      expect(m.knob).toBe(METHODS.get(m.id)!.knob.name);
      expect((m.paramsSchema as { type?: string }).type).toBe('object');
    }
  });
});

describe('pipeline checks', () => {
  it('a valid config: no issues, the plan per step, the budget families, the resolved config', () => {
    const c = checkPipeline({ ...base, steps: [{ method: 'svd', params: {} }] });
    expect(c.issues).toEqual([]);
    expect(c.budgetFamilies).toEqual(['D']);
    expect(c.config).toMatchObject({ version: 2, calibration: { dataset: 'calib', samples: 32 } });
    expect(c.plan!.steps).toHaveLength(1);
    expect(c.plan!.steps[0]).toMatchObject({ method: 'svd', family: 'D', amount: { kind: 'share' } });
    expect(c.plan!.steps[0]!.knobs.rank).toBeGreaterThan(0);
    expect(Math.abs(c.plan!.achievedRatio - 0.2)).toBeLessThanOrEqual(c.plan!.tolerance);
    expect(
      PipelinePlanResult.safeParse({ ok: true, issues: [], plan: c.plan, budgetFamilies: [] }).success,
    ).toBe(true);
  });

  it('version 1 still validates; schema problems come first, in plain sentences on their field', () => {
    expect(validatePipelineConfig({ ...base, version: 1, steps: [{ method: 'svd', params: {} }] })).toEqual(
      [],
    );
    const issues = validatePipelineConfig({ ...base, steps: [{ method: 'svd', params: { rank: 0 } }] });
    expect(issues).toEqual([{ path: 'steps.0.params.rank', message: expect.stringContaining('too small') }]);
    const unknown = validatePipelineConfig({ ...base, steps: [{ method: 'nope', params: {} }] });
    expect(unknown[0]!.message).toMatch(/unknown method "nope"; allowed: .*svd/);
  });

  it('an unreachable budget is an issue on target.ratio and the plan says what is reachable', () => {
    const c = checkPipeline({
      ...base,
      steps: [
        { method: 'moe-svd', params: {} },
        { method: 'svd-llm', params: { rank: 8 } },
      ],
    });
    expect(c.plan).not.toBeNull();
    expect(c.plan!.problem).toMatch(/reachable ratio with these steps is/);
    expect(c.issues).toEqual([{ path: 'target.ratio', message: expect.stringMatching(/^the plan reaches/) }]);
    expect(c.plan!.steps.map((s) => s.amount.kind)).toEqual(['share', 'fixed']);
  });

  it('contributions that do not sum to 1 or name a family without a budget-driven step', () => {
    const half = checkPipeline({
      ...base,
      target: { ratio: 0.2, contributions: { D: 0.5 } },
      steps: [{ method: 'svd', params: {} }],
    });
    expect(half.issues).toEqual([
      { path: 'target.contributions', message: expect.stringMatching(/sum to 0\.5/) },
    ]);
    expect(half.plan).toBeNull();
    expect(half.budgetFamilies).toEqual(['D']);
    const stray = checkPipeline({
      ...base,
      target: { ratio: 0.2, contributions: { P: 0.5, D: 0.5 } },
      steps: [{ method: 'svd', params: {} }],
    });
    expect(stray.issues.map((i) => i.path)).toEqual(['target.contributions.P']);
    const letter = validatePipelineConfig({
      ...base,
      target: { ratio: 0.2, contributions: { X: 1 } },
      steps: [{ method: 'svd', params: {} }],
    });
    expect(letter.map((i) => i.path)).toEqual(['target.contributions']);
  });

  it('a step problem lands on its step, a knob out of range on its param', () => {
    const twice = checkPipeline({
      ...base,
      steps: [
        { method: 'svd', params: {} },
        { method: 'svd-llm', params: { rank: 4 } },
      ],
    });
    expect(twice.issues).toEqual([
      { path: 'steps.1', message: expect.stringMatching(/^svd-llm: .*decomposed/) },
    ]);
    const big = checkPipeline({ ...base, steps: [{ method: 'svd', params: { rank: 100000 } }] });
    expect(big.issues).toEqual([{ path: 'steps.0.params.rank', message: expect.stringMatching(/outside/) }]);
  });

  it('data set references resolve as the job resolves them', () => {
    const r = checkPipeline({
      ...base,
      calibration: { dataset: 'no-such-data' },
      evaluate: { ppl: { dataset: 'wikitext2' } },
      steps: [{ method: 'svd', params: {} }],
    });
    expect(r.issues).toEqual([
      { path: 'calibration.dataset', message: expect.stringMatching(/no-such-data/) },
    ]);
    expect(r.plan).not.toBeNull();
    const text = checkPipeline({
      ...base,
      calibration: { text: '/no/such/file.txt' },
      steps: [{ method: 'svd', params: {} }],
    });
    expect(text.issues).toEqual([
      { path: 'calibration.text', message: expect.stringMatching(/no such file/) },
    ]);
  });

  it('a budget-driven step without target.ratio, and a model that cannot be read', () => {
    const none = checkPipeline({ ...base, target: undefined, steps: [{ method: 'svd', params: {} }] });
    expect(none.issues).toEqual([
      { path: 'target.ratio', message: expect.stringMatching(/no compression amount/) },
    ]);
    const missing = checkPipeline({
      ...base,
      model: 'no-such-model',
      steps: [{ method: 'svd', params: {} }],
    });
    expect(missing.issues).toEqual([{ path: 'model', message: expect.stringMatching(/no-such-model/) }]);
    expect(missing.plan).toBeNull();
  });
});
