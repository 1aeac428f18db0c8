// Several multiple-choice tasks on one model, as the eval.mc job and a compress run's
// `evaluate.mc` both run them: each task's first `limit` documents from the data roots, lm-eval's
// max_length from the model config, one batched scorer per task.
import type { ModelTokenizer } from '../../io/tokenizer';
import type { LoadedModel } from '../../model/model';
import type { LayerOverride } from '../../model/types';
import { modelMaxLength } from './encode';
import { evaluateMcTask, type McTaskResult } from './evaluate';
import type { McSettings } from './settings.params';
import { loadTaskData } from './task-data';
import type { McTaskName } from './tasks';

export type McRunResult = McTaskResult & { file: string; total: number };

export interface McRunOptions {
  overrides?: ReadonlyMap<number, LayerOverride>;
  signal?: AbortSignal;
  /** `fraction`: 0..1 over all the tasks */
  onProgress?(e: { task: McTaskName; fraction: number; message?: string }): void;
}

export async function evaluateMcTasks(
  model: LoadedModel,
  tok: ModelTokenizer,
  settings: Pick<McSettings, 'tasks' | 'limit' | 'tokenBudget'>,
  dataRoots: readonly string[],
  opts: McRunOptions = {},
): Promise<McRunResult[]> {
  const maxLength = modelMaxLength(model);
  const n = settings.tasks.length;
  const out: McRunResult[] = [];
  for (const [i, task] of settings.tasks.entries()) {
    const data = loadTaskData(task, dataRoots, settings.limit);
    opts.onProgress?.({
      task,
      fraction: i / n,
      message: `${data.docs.length} of ${data.total} documents from ${data.file}`,
    });
    const r = await evaluateMcTask(model, tok, task, data.docs, maxLength, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
      ...(settings.tokenBudget ? { tokenBudget: settings.tokenBudget } : {}),
      onBatch: (e) => opts.onProgress?.({ task, fraction: (i + e.done / e.total) / n }),
    });
    opts.onProgress?.({
      task,
      fraction: (i + 1) / n,
      message: `acc ${r.acc.toFixed(4)}${r.acc_norm === undefined ? '' : `, acc_norm ${r.acc_norm.toFixed(4)}`} over ${r.n} docs (${r.requests} requests, ${r.forwards} forward passes) in ${r.seconds.toFixed(1)} s`,
    });
    out.push({ ...r, file: data.file, total: data.total });
  }
  return out;
}
