import type { RunRow } from '@contract';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src-renderer/src/pipeline/editor-state';
import { newPipelineConfig, stageOfPath, stagesOf } from '../../src-renderer/src/pipeline/pipeline-nodes';
import { filterRuns, sortRuns } from '../../src-renderer/src/runs/run-list-model';
import { runMetric } from '../../src-renderer/src/runs/run-metrics';

describe('pipeline stages', () => {
  it('chains model → calibration → steps in order → evaluation → export', () => {
    const c = {
      ...newPipelineConfig('/m/tiny-mixtral'),
      steps: [
        { method: 'svd', params: { rank: 8 } },
        { method: 'asvd', params: {} },
      ],
    };
    const s = stagesOf(c, new Map([['svd', 'Truncated SVD']]));
    expect(s.map((x) => x.id)).toEqual(['model', 'calibration', 'step-0', 'step-1', 'evaluate', 'export']);
    expect(s[0]!.summary).toBe('tiny-mixtral · target 20%');
    expect(s[2]).toMatchObject({ title: '1. Truncated SVD', summary: 'svd · rank 8', stepIndex: 0 });
    expect(s[3]).toMatchObject({ title: '2. asvd', summary: 'asvd · target ratio' });
    expect(stagesOf({}).map((x) => x.id)).toEqual(['model', 'calibration', 'evaluate', 'export']);
  });

  it('issue paths land on their stage', () => {
    expect(stageOfPath('steps.1.params.rank')).toBe('step-1');
    expect(stageOfPath('calibration.samples')).toBe('calibration');
    expect(stageOfPath('target')).toBe('model');
    expect(stageOfPath('')).toBe('model');
    expect(stageOfPath('evaluate.ppl.seqLen')).toBe('evaluate');
  });

  it('config text must be a JSON object', () => {
    expect(parseConfigText('{"a":1}')).toEqual({ ok: true, config: { a: 1 } });
    expect(parseConfigText('[1]')).toMatchObject({ ok: false, issue: { path: '' } });
    const bad = parseConfigText('{"a":');
    expect(bad.ok).toBe(false);
  });
});

const row = (
  id: number,
  status: RunRow['status'],
  metrics: Record<string, number>,
  model: string | null,
): RunRow => ({
  id,
  kind: 'compress',
  status,
  modelId: null,
  modelName: null,
  pipelineName: null,
  seed: null,
  backend: null,
  appVersion: '0',
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  seconds: id,
  error: null,
  headline: {},
  metrics,
  configModel: model,
  configName: `p${id}`,
  methods: ['svd'],
  configTargetRatio: 0.2,
});

describe('runs list model', () => {
  const runs = [
    row(1, 'succeeded', { ppl: 12 }, '/m/alpha'),
    row(2, 'failed', {}, '/m/beta'),
    row(3, 'succeeded', { ppl: 9, achievedRatio: 0.3 }, '/m/alpha'),
  ];
  it('reads the contract metric names and falls back to the config target', () => {
    expect(runMetric(runs[2]!, 'ppl')).toBe(9);
    expect(runMetric(runs[2]!, 'achievedRatio')).toBe(0.3);
    expect(runMetric(runs[1]!, 'targetRatio')).toBe(0.2);
    expect(runMetric(runs[1]!, 'ppl')).toBeNull();
  });
  it('sorts by a metric with missing values last in both directions', () => {
    expect(sortRuns(runs, { key: 'ppl', dir: 'asc' }).map((r) => r.id)).toEqual([3, 1, 2]);
    expect(sortRuns(runs, { key: 'ppl', dir: 'desc' }).map((r) => r.id)).toEqual([1, 3, 2]);
    expect(sortRuns(runs, { key: 'id', dir: 'desc' }).map((r) => r.id)).toEqual([3, 2, 1]);
  });
  it('filters by status and by every word of the text', () => {
    expect(filterRuns(runs, '', 'failed').map((r) => r.id)).toEqual([2]);
    expect(filterRuns(runs, 'ALPHA svd', '').map((r) => r.id)).toEqual([1, 3]);
    expect(filterRuns(runs, '#3', '').map((r) => r.id)).toEqual([3]);
  });
});
