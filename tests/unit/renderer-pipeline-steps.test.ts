// The pipeline editor's pure logic: step edits keep the graph (stages derived from the config) and
// the JSON text in step, contribution sliders keep the shares summing to 1, the live plan's lines.
import type { PipelinePlan } from '@contract';
import { describe, expect, it } from 'vitest';
import { branchOf } from '../../src-renderer/src/forms/schema-fields';
import {
  effectiveShares,
  equalShares,
  setShare,
  sumOf,
  syncContributions,
} from '../../src-renderer/src/pipeline/budget';
import { configText, parseConfigText } from '../../src-renderer/src/pipeline/editor-state';
import { newPipelineConfig, stagesOf } from '../../src-renderer/src/pipeline/pipeline-nodes';
import {
  amountText,
  issueText,
  knobText,
  problemText,
  stepPlanLine,
} from '../../src-renderer/src/pipeline/plan-view';
import {
  addStep,
  moveStep,
  removeStep,
  setStepMethod,
  stageAfterMove,
  stageAfterRemove,
} from '../../src-renderer/src/pipeline/steps';

const FAMILIES = new Map([
  ['svd', 'D'],
  ['svd-llm', 'D'],
  ['expert-prune', 'P'],
  ['layer-drop', 'T'],
]);
const familyOf = (m: string) => FAMILIES.get(m);
type Cfg = Record<string, unknown>;

/** What the graph shows after the edit went through the JSON text (the editor's one source of truth). */
function roundTrip(c: Cfg): { config: Cfg; nodes: string[]; titles: string[] } {
  const parsed = parseConfigText(configText(c));
  if (!parsed.ok) throw new Error('does not parse');
  const stages = stagesOf(parsed.config, { methodFamilies: FAMILIES });
  return {
    config: parsed.config,
    nodes: stages.map((s) => s.id),
    titles: stages.filter((s) => s.kind === 'step').map((s) => s.title),
  };
}
const methods = (c: Cfg) => (c.steps as { method: string }[]).map((s) => s.method);

describe('forms on a versioned config schema', () => {
  it('edit the version 2 branch of a oneOf, and plain object schemas as they are', () => {
    const v2 = { type: 'object', properties: { version: { const: 2 }, calibration: { type: 'object' } } };
    const v1 = { type: 'object', properties: { version: { const: 1 } } };
    expect(branchOf({ oneOf: [v1, v2] }, 'version', 2)).toBe(v2);
    expect(branchOf({ oneOf: [v1] }, 'version', 2)).toBe(v1);
    expect(branchOf(v2, 'version', 1)).toBe(v2);
    expect(branchOf(undefined, 'version', 2)).toBeUndefined();
  });
});

describe('new pipeline template (issue 9)', () => {
  it('calibrates on calib, not on the wikitext2 test split it evaluates on', () => {
    const c = newPipelineConfig('/m/x');
    expect(c.version).toBe(2);
    expect((c.calibration as { dataset: string }).dataset).toBe('calib');
    expect((c.evaluate as { ppl: { dataset: string } }).ppl.dataset).toBe('wikitext2');
  });
});

describe('step edits keep graph and JSON in sync', () => {
  const start = newPipelineConfig('/m/x'); // one svd step

  it('adding steps puts a node per step between calibration and evaluation, in order', () => {
    let c = addStep(start, 0, 'expert-prune', familyOf);
    c = addStep(c, 2, 'layer-drop', familyOf);
    const g = roundTrip(c);
    expect(methods(g.config)).toEqual(['expert-prune', 'svd', 'layer-drop']);
    expect(g.nodes).toEqual(['model', 'calibration', 'step-0', 'step-1', 'step-2', 'evaluate', 'export']);
    expect(g.titles).toEqual(['1. expert-prune', '2. svd', '3. layer-drop']);
    expect(g.config.version).toBe(2);
    expect((g.config.steps as unknown[])[0]).toEqual({ method: 'expert-prune', params: {} });
  });

  it('moving a step reorders nodes and JSON together; the moved step stays selected', () => {
    const c = addStep(addStep(start, 1, 'expert-prune', familyOf), 2, 'layer-drop', familyOf);
    const moved = moveStep(c, 1, 0);
    expect(methods(roundTrip(moved).config)).toEqual(['expert-prune', 'svd', 'layer-drop']);
    expect(roundTrip(moved).titles).toEqual(['1. expert-prune', '2. svd', '3. layer-drop']);
    expect(methods(moveStep(c, 0, 99))).toEqual(['expert-prune', 'layer-drop', 'svd']);
    expect(moveStep(c, 1, 1)).toBe(c);
    expect(stageAfterMove('step-1', 1, 0)).toBe('step-0');
    expect(stageAfterMove('step-0', 1, 0)).toBe('step-1');
    expect(stageAfterMove('step-2', 0, 1)).toBe('step-2');
    expect(stageAfterMove('calibration', 0, 1)).toBe('calibration');
  });

  it('removing a step drops its node; the selection moves to its neighbour', () => {
    const c = addStep(start, 1, 'expert-prune', familyOf);
    const r = roundTrip(removeStep(c, 0, familyOf));
    expect(methods(r.config)).toEqual(['expert-prune']);
    expect(r.nodes).toEqual(['model', 'calibration', 'step-0', 'evaluate', 'export']);
    expect(removeStep(c, 5, familyOf)).toBe(c);
    expect(stageAfterRemove('step-1', 1, 1)).toBe('step-0');
    expect(stageAfterRemove('step-0', 1, 1)).toBe('step-0');
    expect(stageAfterRemove('step-2', 0, 2)).toBe('step-1');
    expect(stageAfterRemove('step-0', 0, 0)).toBe('model');
    expect(stageAfterRemove('export', 0, 1)).toBe('export');
  });

  it('a step switched to another method starts from that method’s defaults', () => {
    const c = { ...start, steps: [{ method: 'svd', params: { rank: 8 } }] };
    const s = setStepMethod(c, 0, 'expert-prune', familyOf);
    expect(s.steps).toEqual([{ method: 'expert-prune', params: {} }]);
    expect(setStepMethod(c, 0, 'svd', familyOf)).toBe(c);
  });

  it('contributions follow the families present: a new family gets a share, a gone one loses its own', () => {
    const c = { ...start, target: { ratio: 0.3, contributions: { D: 1 } } };
    const two = addStep(c, 0, 'expert-prune', familyOf);
    expect((two.target as Cfg).contributions).toEqual({ D: 0.5, P: 0.5 });
    const three = addStep(two, 2, 'layer-drop', familyOf);
    const c3 = (three.target as Cfg).contributions as Record<string, number>;
    expect(Object.keys(c3).sort()).toEqual(['D', 'P', 'T']);
    expect(sumOf(c3)).toBeCloseTo(1, 12);
    const back = removeStep(three, 0, familyOf); // expert-prune gone: P's share goes to D and T
    const cb = (back.target as Cfg).contributions as Record<string, number>;
    expect(Object.keys(cb).sort()).toEqual(['D', 'T']);
    expect(sumOf(cb)).toBeCloseTo(1, 12);
    // without written contributions (equal shares) nothing is added
    expect((addStep(start, 0, 'expert-prune', familyOf).target as Cfg).contributions).toBeUndefined();
    // a second step of a family already present changes nothing
    expect((addStep(two, 2, 'svd-llm', familyOf).target as Cfg).contributions).toEqual({ D: 0.5, P: 0.5 });
  });
});

describe('contribution sliders keep the sum at 1', () => {
  it('moving one slider rescales the others in proportion', () => {
    const s = setShare({ P: 0.5, D: 0.3, T: 0.2 }, ['P', 'D', 'T'], 'P', 0.8);
    expect(s.P).toBe(0.8);
    expect(s.D).toBeCloseTo(0.12, 10);
    expect(s.T).toBeCloseTo(0.08, 10);
    expect(sumOf(s)).toBeCloseTo(1, 12);
  });

  it('others that all sit at 0 share the rest equally; values are clamped; one family is 1', () => {
    expect(setShare({ P: 1, D: 0, T: 0 }, ['P', 'D', 'T'], 'P', 0.4)).toEqual({ P: 0.4, D: 0.3, T: 0.3 });
    expect(setShare({ P: 0.5, D: 0.5 }, ['P', 'D'], 'D', 7)).toEqual({ D: 1, P: 0 });
    expect(setShare({ P: 0.5, D: 0.5 }, ['P', 'D'], 'D', -1)).toEqual({ D: 0, P: 1 });
    expect(setShare({ D: 0.2 }, ['D'], 'D', 0.2)).toEqual({ D: 1 });
  });

  it('sums to 1 within the engine’s 1e-9 for any slider position', () => {
    const fams = ['P', 'D', 'T', 'M'];
    let s = equalShares(fams);
    for (let i = 0; i < 200; i++) {
      s = setShare(s, fams, fams[i % fams.length]!, ((i * 37) % 101) / 100);
      expect(Math.abs(sumOf(s) - 1)).toBeLessThan(1e-9);
      for (const v of Object.values(s)) expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(sumOf(equalShares(['P', 'D', 'T']))).toBeCloseTo(1, 12);
  });

  it('the effective shares: written ones (missing = 0), else equal', () => {
    expect(effectiveShares({}, ['P', 'D'])).toEqual({ P: 0.5, D: 0.5 });
    expect(effectiveShares({ target: { contributions: { P: 0.7, D: 0.3 } } }, ['P', 'D', 'T'])).toEqual({
      P: 0.7,
      D: 0.3,
      T: 0,
    });
    expect(syncContributions({ target: { ratio: 0.2, contributions: { P: 1 } } }, ['P'], ['D'])).toEqual({
      target: { ratio: 0.2, contributions: { D: 1 } },
    });
    expect(syncContributions({ target: { ratio: 0.2, contributions: { P: 1 } } }, ['P'], [])).toEqual({
      target: { ratio: 0.2 },
    });
  });
});

describe('live plan on the graph and in the budget panel', () => {
  const plan: PipelinePlan = {
    model: 'm',
    architecture: 'mixtral',
    paramsBefore: 1000,
    paramsAfter: 700,
    weightBytesBefore: 4000,
    weightBytesAfter: 2800,
    achievedRatio: 0.3,
    targetRatio: 0.3,
    tolerance: 0.01,
    problem: null,
    steps: [
      {
        method: 'expert-prune',
        family: 'P',
        amount: { kind: 'share', family: 'P', contribution: 0.5 },
        noop: false,
        knobs: { expertsRemoved: 9 },
        paramsAfter: 850,
        weightBytesAfter: 3400,
        ratioAfter: 0.15,
      },
      {
        method: 'svd-llm',
        family: 'D',
        amount: { kind: 'fixed' },
        noop: false,
        knobs: { rank: 41 },
        paramsAfter: 700,
        weightBytesAfter: 2800,
        ratioAfter: 0.3,
      },
    ],
  };
  const config = {
    ...newPipelineConfig('/m/x'),
    steps: [
      { method: 'expert-prune', params: {} },
      { method: 'svd-llm', params: { rank: 41 } },
    ],
  };

  it('each step node carries its family and the plan’s knobs and ratio after it', () => {
    const s = stagesOf(config, { methodFamilies: FAMILIES, plan }).filter((x) => x.kind === 'step');
    expect(s.map((x) => x.family)).toEqual(['P', 'D']);
    expect(s.map((x) => x.planned)).toEqual(['expertsRemoved 9 → 15.0%', 'rank 41 → 30.0%']);
    // a plan for another step list is not shown
    const other = stagesOf({ ...config, steps: config.steps.slice(0, 1) }, { plan });
    expect(other.find((x) => x.kind === 'step')!.planned).toBeUndefined();
  });

  it('texts: knobs, amounts, no-op steps, issue messages without their path', () => {
    expect(knobText({ rank: 96, layers: 2 })).toBe('rank 96 · layers 2');
    expect(knobText({})).toBe('unchanged');
    expect(amountText({ kind: 'share', family: 'D', contribution: 0.5 })).toBe(
      'budget share 50% (D, low-rank decomposition)',
    );
    expect(amountText({ kind: 'ratio', ratio: 0.25 })).toBe('own ratio 25%');
    expect(amountText({ kind: 'fixed' })).toBe('fixed by its params');
    expect(stepPlanLine({ ...plan.steps[0]!, noop: true })).toMatch(/no-op/);
    expect(issueText({ path: 'steps.0.params.rank', message: 'steps.0.params.rank: 0 is too small' })).toBe(
      '0 is too small',
    );
    expect(issueText({ path: 'steps.1', message: 'svd-llm: every MoE layer is already decomposed' })).toBe(
      'svd-llm: every MoE layer is already decomposed',
    );
    expect(problemText('target.ratio: the plan reaches 0.4439')).toBe('the plan reaches 0.4439');
  });
});
