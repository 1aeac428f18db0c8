import { z } from 'zod';
import { McSettings } from '../eval/mc/settings.params';
import { findTaskFile } from '../eval/mc/task-data';
import type { Resolver } from '../io/resolver';
import { RefParams } from './refs.params';

export const EvalMcParams = z
  .object({
    model: z.string().min(1).describe('built-in model name (tiny-mixtral, …) or a Hugging Face model folder'),
    ...McSettings.shape,
    ...RefParams,
  })
  .strict();
export type EvalMcParams = z.output<typeof EvalMcParams>;

/** Main thread, before the run exists: the model and every task's data file must resolve. */
export function resolveEvalMc(p: EvalMcParams, r: Resolver): { modelDir: string } {
  const modelDir = r.resolveModel(p.model);
  for (const t of p.tasks) findTaskFile(t, r.options.datasetRoots);
  return { modelDir };
}
