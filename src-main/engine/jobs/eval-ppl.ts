// eval.ppl: perplexity of an unmodified model on one or more data sets (METHODS §8.1, the code path of
// `moe-bench eval ppl`). Headline metrics: ppl per data set, tokensPerSecond over all of them, peakRssBytes.
import path from 'node:path';
import { perplexity } from '../eval/perplexity';
import { defaultDataDirs, joinForPerplexity, loadDatasetRows, resolveDataset } from '../io/datasets';
import { loadTokenizer } from '../io/tokenizer';
import { openModel } from '../model/model';
import { resolveModelDir } from '../pipeline/model-ref';
import type { EvalPplParams } from './eval-ppl.params';
import type { JobContext } from './job-context';

export interface EvalPplResult {
  runId: number | null;
  model: string;
  results: { dataset: string; ppl: number; tokens: number; windows: number; seconds: number }[];
  tokensPerSecond: number;
  peakRssBytes: number;
}

export async function run(ctx: JobContext, params: EvalPplParams): Promise<EvalPplResult> {
  const base = params.baseDir ?? process.cwd();
  const modelDir = resolveModelDir(params.model, base);
  const model = openModel(modelDir);
  const tok = await loadTokenizer(modelDir);
  const results: EvalPplResult['results'] = [];
  let windowTokens = 0;
  let seconds = 0;
  let peak = 0;
  try {
    const n = params.evaluations.length;
    for (const [i, ev] of params.evaluations.entries()) {
      ctx.progress({ step: `perplexity ${ev.dataset}`, fraction: i / n });
      const spec = /[/\\]/.test(ev.dataset) ? path.resolve(base, ev.dataset) : ev.dataset;
      const ref = resolveDataset(spec, { dataDirs: [...params.dataDirs, ...defaultDataDirs()] });
      const ids = tok.encode(joinForPerplexity(await loadDatasetRows(ref)));
      const p = await perplexity(model, ids, {
        seqLen: ev.seqLen,
        signal: ctx.signal,
        ...(ev.maxWindows ? { maxWindows: ev.maxWindows } : {}),
        onProgress: (e) => {
          ctx.throwIfCancelled();
          ctx.progress({
            step: `perplexity ${ev.dataset}`,
            layer: e.layer,
            layers: e.layers,
            fraction:
              (i + (e.batchStart + ((e.layer + 1) / e.layers) * (e.batchEnd - e.batchStart)) / e.windows) / n,
          });
        },
      });
      ctx.record.metric('ppl', p.ppl, { dataset: ev.dataset, headline: true });
      ctx.record.metric('eval_tokens', p.tokens, { dataset: ev.dataset });
      results.push({
        dataset: ev.dataset,
        ppl: p.ppl,
        tokens: p.tokens,
        windows: p.windows,
        seconds: p.seconds,
      });
      windowTokens += p.windows * ev.seqLen;
      seconds += p.seconds;
      peak = Math.max(peak, p.peakRssBytes);
    }
  } finally {
    model.checkpoint.close();
  }
  const tokensPerSecond = windowTokens / seconds;
  ctx.record.metric('tokensPerSecond', tokensPerSecond, { unit: 'tok/s', headline: true });
  ctx.record.metric('peakRssBytes', peak, { unit: 'B', headline: true });
  ctx.progress({ step: 'done', fraction: 1 });
  return { runId: ctx.runId, model: modelDir, results, tokensPerSecond, peakRssBytes: peak };
}
