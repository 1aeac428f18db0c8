// The editor's multiple-choice settings come from the schema (the task list as one checkbox per
// task), the evaluation node summarises them, and the compare page reads acc per task and run.
import type { RunDetail } from '@contract';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { McSettings } from '../../src-main/engine/eval/mc/settings.params';
import { MC_TASKS } from '../../src-main/engine/eval/mc/tasks';
import { taskAccuracyRows } from '../../src-renderer/src/compare/task-accuracy';
import { fieldsOf, type JsonSchema } from '../../src-renderer/src/forms/schema-fields';
import { stagesOf } from '../../src-renderer/src/pipeline/pipeline-nodes';

describe('multiple-choice evaluation in the UI', () => {
  it('the settings schema gives a task checkbox set, an integer limit and a token budget', () => {
    const fields = fieldsOf(
      z.toJSONSchema(McSettings, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
    );
    const tasks = fields.find((f) => f.key === 'tasks')!;
    expect(tasks.kind).toBe('set');
    expect(tasks.kind === 'set' && tasks.options).toEqual([...MC_TASKS]);
    expect(tasks.default).toEqual([...MC_TASKS]);
    expect(fields.find((f) => f.key === 'limit')).toMatchObject({ kind: 'integer', min: 1 });
    expect(fields.map((f) => f.key)).toEqual(['tasks', 'limit', 'tokenBudget']);
  });

  it('the evaluation node says what runs', () => {
    const summary = (evaluate: unknown) => stagesOf({ evaluate }).find((s) => s.id === 'evaluate')!.summary;
    expect(summary(undefined)).toBe('none');
    expect(summary({ ppl: { dataset: 'ptb' }, mc: { tasks: ['arc_easy', 'piqa'], limit: 500 } })).toBe(
      'perplexity · ptb · 2 tasks ≤500 docs',
    );
    expect(summary({ mc: {} })).toBe('7 tasks');
  });

  it('acc per task and run, first value of each task, null where a run did not score it', () => {
    const run = (id: number, metrics: [string, number, string | null][]) =>
      ({
        id,
        metrics: metrics.map(([name, value, dataset]) => ({ name, value, dataset, unit: null })),
      }) as RunDetail;
    const rows = taskAccuracyRows([
      run(1, [
        ['acc', 0.3, 'arc_easy'],
        ['accNorm', 0.4, 'arc_easy'],
        ['acc', 0.5, 'winogrande'],
        ['accAvg', 0.4, null],
      ]),
      run(2, [
        ['acc', 0.25, 'arc_easy'],
        ['acc', 0.2, 'arc_easy'],
      ]),
    ]);
    expect(rows).toEqual([
      { task: 'arc_easy', acc: { 1: 0.3, 2: 0.25 } },
      { task: 'winogrande', acc: { 1: 0.5, 2: null } },
    ]);
  });
});
