// The run page's per-step views from layer records: steps by (step, layer) (old runs: one step),
// pruned experts on the layers × experts heatmap by original id, dropped layers; the comparison's
// step sequence and recorded target.
import type { LayerRecord, RunDetail } from '@contract';
import { describe, expect, it } from 'vitest';
import {
  configTargetRatio,
  metricsTable,
  runMetrics,
  stepSequenceText,
} from '../../src-renderer/src/compare/comparison';
import {
  expertGrid,
  layerRows,
  runSteps,
  stepGrid,
  stepSummary,
} from '../../src-renderer/src/runs/layer-stats';

const rec = (layer: number, stats: Record<string, unknown>, step?: number): LayerRecord =>
  ({ layer, stats, seconds: null, ...(step === undefined ? {} : { step }) }) as LayerRecord;

/** expert-prune of 8 experts: scores by current index; removes 2 */
const prune = (layer: number, removedIndex: number[], step?: number) => {
  const scores = [0.3, 0.05, 0.2, 0.15, 0.01, 0.12, 0.08, 0.09];
  const kept = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !removedIndex.includes(i));
  return rec(
    layer,
    {
      method: 'expert-prune',
      metric: 'activation_frequency',
      scores,
      removed: removedIndex,
      kept,
      removedIndex,
      expertsBefore: 8,
      expertsAfter: kept.length,
      topK: 2,
    },
    step,
  );
};
const lowrank = (layer: number, tokens: number[], step?: number) =>
  rec(layer, { method: 'svd-llm', rank: 12, tokens, relError: { gate: 0.1, up: 0.1, down: 0.1 } }, step);

describe('run steps', () => {
  it('groups records by their step; a run without steps is one step', () => {
    const steps = runSteps(
      [
        prune(0, [4, 1], 0),
        prune(1, [4, 6], 0),
        lowrank(0, [1, 2, 3, 4, 5, 6], 1),
        lowrank(1, [1, 1, 1, 1, 1, 1], 1),
      ],
      [{ method: 'expert-prune' }, { method: 'svd-llm' }],
    );
    expect(steps.map((s) => [s.step, s.method, s.records.map((r) => r.layer)])).toEqual([
      [0, 'expert-prune', [0, 1]],
      [1, 'svd-llm', [0, 1]],
    ]);
    const old = runSteps([lowrank(0, [1, 2]), lowrank(1, [3, 4]), lowrank(2, [5, 6])], [{ method: 'svd' }]);
    expect(old).toHaveLength(1);
    expect(old[0]!.method).toBe('svd');
    expect(runSteps([])).toEqual([]);
  });

  it('records without a step start a new step where the layers restart or the method changes', () => {
    const steps = runSteps([prune(0, [4]), prune(1, [4]), lowrank(0, [1]), lowrank(1, [1])]);
    expect(steps.map((s) => s.method)).toEqual(['expert-prune', 'svd-llm']);
    const byMethod = runSteps([rec(3, { method: 'layer-drop', dropped: 'ffn' }), lowrank(5, [1])]);
    expect(byMethod.map((s) => s.method)).toEqual(['layer-drop', 'svd-llm']);
  });
});

describe('heatmap marks removed experts from the records', () => {
  const steps = runSteps(
    [
      prune(0, [4, 1], 0),
      prune(1, [4, 6], 0),
      lowrank(0, [10, 20, 30, 40, 50, 0], 1),
      lowrank(1, [1, 1, 1, 1, 1, 1], 1),
      rec(2, { method: 'block-drop', dropped: 'block', similarity: 0.97 }, 2),
    ],
    [{ method: 'expert-prune' }, { method: 'svd-llm' }, { method: 'block-drop' }],
  );

  it('the pruning step: removed cells, scores as colour, kept counts per layer', () => {
    const g = stepGrid(steps, 0);
    expect(g.layers).toEqual([0, 1]);
    expect(g.experts).toBe(8);
    expect(g.removed[0]!.flatMap((r, e) => (r ? [e] : []))).toEqual([1, 4]);
    expect(g.removed[1]!.flatMap((r, e) => (r ? [e] : []))).toEqual([4, 6]);
    expect(g.values.score[0]![4]).toBe(0.01);
    expect(g.available[0]).toBe('score');
    expect(g.kept).toEqual([6, 6]);
    expect(g.before).toEqual([8, 8]);
    expect(g.gone.flat().some(Boolean)).toBe(false);
  });

  it('a later step: experts removed earlier are gone, its per-expert values land on original ids', () => {
    const g = stepGrid(steps, 1);
    expect(g.experts).toBe(8);
    expect(g.gone[0]!.flatMap((x, e) => (x ? [e] : []))).toEqual([1, 4]);
    // current experts of layer 0 are originals 0, 2, 3, 5, 6, 7
    expect(g.values.tokens[0]).toEqual([10, null, 20, 30, null, 40, 50, 0]);
    expect(g.zeroTokens[0]![7]).toBe(true);
    expect(g.removed.flat().some(Boolean)).toBe(false);
    expect(g.kept).toEqual([6, 6]);
  });

  it('a dropping step marks the row; later steps show it as dropped earlier', () => {
    const g = stepGrid(steps, 2);
    expect(g.layers).toEqual([2]);
    expect(g.dropped).toEqual([{ kind: 'block', byThisStep: true, similarity: 0.97 }]);
    const after = expertGrid([lowrank(0, [1, 1])], steps[2]!.records);
    expect(after.layers).toEqual([0, 2]);
    expect(after.dropped[1]).toEqual({ kind: 'block', byThisStep: false, similarity: 0.97 });
  });

  it('without removedIndex, current experts are the removed and kept ids in ascending order', () => {
    const r = rec(0, { method: 'expert-drop', scores: [5, 1, 4, 3], removed: [1], kept: [0, 2, 3] });
    const g = expertGrid([r]);
    expect(g.values.score[0]).toEqual([5, 1, 4, 3]);
    expect(g.removed[0]).toEqual([false, true, false, false]);
    expect(g.kept).toEqual([3]);
  });

  it('layer rows and the step summary say what each step did', () => {
    const prunes = layerRows(steps[0]!.records);
    expect(prunes[0]).toMatchObject({
      method: 'expert-prune',
      metric: 'activation_frequency',
      expertsBefore: 8,
      expertsAfter: 6,
      removed: [1, 4],
      dropped: null,
    });
    expect(layerRows(steps[2]!.records)[0]).toMatchObject({ dropped: 'block', similarity: 0.97 });
    expect(layerRows([rec(1, { method: 'layer-drop', dropped: true })])[0]!.dropped).toBe('layer');
    expect(stepSummary(steps[0]!)).toBe('4 experts removed in 2 layers · 2 layer records');
    expect(stepSummary(steps[2]!)).toMatch(/^blocks dropped: L2/);
  });
});

const detail = (id: number, config: unknown, metrics: Record<string, number>): RunDetail => ({
  id,
  kind: 'compress',
  status: 'succeeded',
  modelId: null,
  modelName: null,
  pipelineName: null,
  seed: null,
  backend: null,
  appVersion: '0',
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  seconds: null,
  error: null,
  headline: {},
  config: { config, outDir: '/o' },
  metrics: Object.entries(metrics).map(([name, value]) => ({ name, value, dataset: null, unit: null })),
  layers: [],
  artifacts: [],
});

describe('compare: step sequences and the recorded target', () => {
  const twoStep = {
    name: 'two',
    target: { ratio: 0.2 },
    steps: [
      { method: 'expert-prune', params: {} },
      { method: 'svd-llm', params: { ratio: 0.4 } },
    ],
  };

  it('shows each run’s step sequence in the metrics table', () => {
    const a = detail(1, twoStep, { targetRatio: 0.4, ppl: 10 });
    const b = detail(2, { name: 'one', steps: [{ method: 'svd', params: {} }] }, { ppl: 12 });
    expect(stepSequenceText(a)).toBe('expert-prune → svd-llm');
    const t = metricsTable([a, b], 1);
    const col = t.columns.indexOf('steps');
    expect(t.columns.slice(0, 5)).toEqual(['run', 'status', 'baseline', 'steps', 'ppl']);
    expect(t.rows.map((r) => r[col])).toEqual(['expert-prune → svd-llm', 'svd']);
  });

  it('the target is the recorded targetRatio, not config.target.ratio', () => {
    expect(runMetrics(detail(1, twoStep, { targetRatio: 0.4 })).targetRatio).toBe(0.4);
    // nothing recorded: a step with its own ratio makes config.target.ratio unreliable
    expect(runMetrics(detail(1, twoStep, {})).targetRatio).toBeNull();
    expect(
      configTargetRatio({ target: { ratio: 0.2 }, steps: [{ method: 'svd', params: { ratio: 0.35 } }] }),
    ).toBe(0.35);
    expect(configTargetRatio({ target: { ratio: 0.2 }, steps: [{ method: 'svd', params: {} }] })).toBe(0.2);
    expect(configTargetRatio({ steps: [{ method: 'svd', params: {} }] })).toBeNull();
  });
});

describe('merged experts on the run page', () => {
  /** expert-merge of 6 experts into 3 groups: {1 ← 0, 4}, {3 ← 5}, {2} (leader first) */
  const merge = (layer: number, step?: number) =>
    rec(
      layer,
      {
        method: 'expert-merge',
        grouping: 'dominant',
        groups: [[1, 0, 4], [3, 5], [2]],
        groupIndex: [[1, 0, 4], [3, 5], [2]],
        leaders: [1, 3, 2],
        frequency: [5, 9, 1, 7, 2, 3],
        tokens: [5, 9, 1, 7, 2, 3],
        expertsBefore: 6,
        expertsAfter: 3,
        topK: 2,
      },
      step,
    );

  it('the merge step marks which expert joined which leader, by original id', () => {
    const g = expertGrid([merge(0, 0)]);
    expect(g.experts).toBe(6);
    expect(g.mergedInto[0]).toEqual([1, null, null, null, 1, 3]);
    expect(g.leader[0]).toEqual([false, true, false, true, false, false]);
    // merging is not removal: nothing struck through
    expect(g.removed[0]!.some(Boolean)).toBe(false);
    expect(g.values.tokens[0]).toEqual([5, 9, 1, 7, 2, 3]);
    expect(g.kept[0]).toBe(3);
    const [row] = layerRows([merge(0, 0)]);
    expect(row!.groups).toEqual([[1, 0, 4], [3, 5], [2]]);
    expect(row!.removed).toBeNull();
    expect(stepSummary({ step: 0, method: 'expert-merge', records: [merge(0, 0), merge(1, 0)] })).toContain(
      '12 experts merged into 6 groups in 2 layers',
    );
  });

  it('a later step sees the members gone and its per-expert values at the leaders’ columns', () => {
    const steps = runSteps(
      [merge(0, 0), lowrank(0, [10, 20, 30], 1)],
      [{ method: 'expert-merge' }, { method: 'svd-llm' }],
    );
    const g = stepGrid(steps, 1);
    expect(g.gone[0]).toEqual([true, false, false, false, true, true]);
    // current experts after the merge are the groups in order: leaders 1, 3, 2
    expect(g.values.tokens[0]).toEqual([null, 10, 30, 20, null, null]);
    expect(g.mergedInto[0]!.every((x) => x === null)).toBe(true);
  });
});
