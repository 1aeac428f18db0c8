// eval.ppl: perplexity of an unmodified model on one or more data sets, text files or token-id files
// (METHODS §8.1; `moe-bench eval ppl` runs it). Headline metrics: ppl per data set, tokensPerSecond
// over all of them, peakRssBytes.
import { modelMaxLength } from '../eval/mc/encode';
import { type PerplexityResult, perplexity } from '../eval/perplexity';
import { resolverFor } from '../io/resolver';
import { sourceLabel, sourceTokens } from '../io/token-source';
import { loadTokenizer, type ModelTokenizer } from '../io/tokenizer';
import { openModel } from '../model/model';
import type { EvalPplParams } from './eval-ppl.params';
import type { JobContext } from './job-context';

export interface EvalPplResult {
  runId: number | null;
  model: string;
  /** per evaluation: the data set name or the path as given, and perplexity()'s full result */
  results: ({ dataset: string } & PerplexityResult)[];
  tokensPerSecond: number;
  peakRssBytes: number;
}

export async function run(ctx: JobContext, params: EvalPplParams): Promise<EvalPplResult> {
  const resolver = resolverFor(params);
  const modelDir = resolver.resolveModel(params.model);
  const model = openModel(modelDir);
  const maxLength = modelMaxLength(model);
  let tok: ModelTokenizer | null = null;
  const results: EvalPplResult['results'] = [];
  let windowTokens = 0;
  let seconds = 0;
  let peak = 0;
  try {
    const n = params.evaluations.length;
    for (const [i, ev] of params.evaluations.entries()) {
      const label = sourceLabel(ev);
      ctx.progress({ step: `tokens ${label}`, fraction: i / n });
      if (ev.tokenIds === undefined) tok ??= await loadTokenizer(modelDir);
      // a window cap needs only its windows' tokens: a text file is read no further than that
      const need = ev.maxWindows ? ev.maxWindows * ev.seqLen : undefined;
      const src = await sourceTokens(ev, resolver, tok ?? modelDir, `evaluations[${i}].`, need);
      for (const [k, note] of src.notes.entries())
        ctx.progress({ step: k ? `tokenized ${label}` : `read ${label}`, fraction: i / n, message: note });
      // like transformers, nothing stops a window longer than the trained context: RoPE simply
      // runs on past it, so say so next to the number
      if (ev.seqLen > maxLength)
        ctx.progress({
          step: `perplexity ${label}`,
          fraction: i / n,
          message: `seqLen ${ev.seqLen} exceeds the model's max_position_embeddings ${maxLength}: positions past it are outside the trained range`,
        });
      const p = await perplexity(model, src.ids, {
        seqLen: ev.seqLen,
        signal: ctx.signal,
        ...(ev.maxWindows ? { maxWindows: ev.maxWindows } : {}),
        ...(ev.batch ? { batch: ev.batch } : {}),
        onProgress: (e) => {
          ctx.throwIfCancelled();
          ctx.progress({
            step: `perplexity ${label}`,
            layer: e.layer,
            layers: e.layers,
            fraction:
              (i + (e.batchStart + ((e.layer + 1) / e.layers) * (e.batchEnd - e.batchStart)) / e.windows) / n,
          });
        },
      });
      ctx.record.metric('ppl', p.ppl, { dataset: label, headline: true });
      ctx.record.metric('evalTokens', p.tokens, { dataset: label });
      results.push({ dataset: label, ...p });
      windowTokens += p.windows * ev.seqLen;
      seconds += p.seconds;
      peak = Math.max(peak, p.peakRssBytes);
    }
  } finally {
    model.checkpoint.close();
  }
  const tokensPerSecond = windowTokens / seconds;
  ctx.record.metric('tokensPerSecond', tokensPerSecond, { headline: true });
  ctx.record.metric('peakRssBytes', peak, { headline: true });
  ctx.progress({ step: 'done', fraction: 1 });
  return { runId: ctx.runId, model: modelDir, results, tokensPerSecond, peakRssBytes: peak };
}
