// eval.speed: prefill and decode tokens/s (greedy, KV cache, fixed prompt and generation lengths),
// peak memory, weight bytes and FLOPs per token of a model folder (METHODS §8.3; `moe-bench eval
// speed` runs it). A workbench-format folder (a compressed export) runs as stored, so its numbers
// are those of the compressed model.
import { measureSpeed, type SpeedResult } from '../eval/speed';
import { resolverFor } from '../io/resolver';
import { openModel } from '../model/model';
import type { EvalSpeedParams } from './eval-speed.params';
import type { JobContext } from './job-context';
import { recordSpeed, recordSpeedLayers } from './speed-metrics';

export interface EvalSpeedResult extends SpeedResult {
  runId: number | null;
  model: string;
  /** every tensor of the checkpoint as stored */
  weightBytes: number;
}

export async function run(ctx: JobContext, params: EvalSpeedParams): Promise<EvalSpeedResult> {
  const modelDir = resolverFor(params).resolveModel(params.model);
  const model = openModel(modelDir);
  try {
    ctx.progress({ step: 'generate', fraction: 0 });
    const r = await measureSpeed(model, params, { signal: ctx.signal });
    const weightBytes = model.checkpoint.totalBytes();
    recordSpeed(ctx.record, r, 'model');
    ctx.record.metric('weightBytes', weightBytes, { headline: true });
    ctx.record.metric('peakRssBytes', r.peakRssBytes);
    recordSpeedLayers(ctx.record, r);
    ctx.progress({ step: 'done', fraction: 1 });
    return { runId: ctx.runId, model: modelDir, weightBytes, ...r };
  } finally {
    model.checkpoint.close();
  }
}
