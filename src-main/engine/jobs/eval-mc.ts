// eval.mc: zero-shot multiple-choice accuracy of a model on lm-eval 0.4 tasks (METHODS §8.2;
// `moe-bench eval mc` runs it). Records acc / accNorm and their standard errors per task and
// accAvg, the mean acc over the tasks scored, as the headline (eval/mc/record.ts).
import { modelMaxLength } from '../eval/mc/encode';
import { recordMcResults } from '../eval/mc/record';
import { evaluateMcTasks, type McRunResult } from '../eval/mc/run-tasks';
import { resolverFor } from '../io/resolver';
import { loadTokenizer } from '../io/tokenizer';
import { openModel } from '../model/model';
import type { EvalMcParams } from './eval-mc.params';
import type { JobContext } from './job-context';

export interface EvalMcResult {
  runId: number | null;
  model: string;
  /** lm-eval's max_length: inputs keep their last max_length + 1 tokens */
  maxLength: number;
  results: McRunResult[];
}

export async function run(ctx: JobContext, params: EvalMcParams): Promise<EvalMcResult> {
  const resolver = resolverFor(params);
  const modelDir = resolver.resolveModel(params.model);
  const model = openModel(modelDir);
  try {
    const tok = await loadTokenizer(modelDir);
    const results = await evaluateMcTasks(model, tok, params, resolver.options.datasetRoots, {
      signal: ctx.signal,
      onProgress: (e) => {
        ctx.throwIfCancelled();
        ctx.progress({
          step: `mc ${e.task}`,
          fraction: e.fraction,
          ...(e.message ? { message: e.message } : {}),
        });
      },
    });
    recordMcResults(ctx.record, results);
    ctx.progress({ step: 'done', fraction: 1 });
    return { runId: ctx.runId, model: modelDir, maxLength: modelMaxLength(model), results };
  } finally {
    model.checkpoint.close();
  }
}
