// The first start on an empty store does real work straight away: a baseline perplexity run of
// the embedded default model, visible live in the Runs view. Later starts leave the store alone.
import { DEFAULT_PPL_PROTOCOL } from '../contract/protocol';
import type { WorkbenchApp } from './create-app';

export const FIRST_RUN_MODEL = 'tiny-mixtral';

/** Starts the first-run job when the store has no runs and the default model is built in; returns its job id. */
export async function startFirstRunDemo(app: WorkbenchApp): Promise<string | null> {
  const runs = await app.handlers['runs.list']({ limit: 1 });
  if (runs.length > 0) return null;
  const models = await app.handlers['models.list']({});
  if (!models.some((m) => m.builtin && m.name === FIRST_RUN_MODEL)) return null;
  const job = await app.handlers['jobs.start']({
    kind: 'eval.ppl',
    // the protocol new pipelines and the examples evaluate under: their perplexity deltas against
    // this baseline are deltas, not a comparison of two different texts
    params: { model: FIRST_RUN_MODEL, evaluations: [{ ...DEFAULT_PPL_PROTOCOL }] },
  });
  return job.jobId;
}
