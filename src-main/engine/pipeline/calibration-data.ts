// Calibration token sequences for a pipeline config: dataset rows (or a text file) joined and sampled
// with the SVD-LLM character-offset sampler (METHODS §1.5), tokenized by the model's own tokenizer.
import { sampleCalibration } from '../calibration/sampler';
import { createResolver, type Resolver, sourceTreeRoots } from '../io/resolver';
import { sourceText } from '../io/token-source';
import { loadTokenizer } from '../io/tokenizer';
import type { PipelineConfig } from './config';

/**
 * `resolver`: the job's (resolverFor(params)). Without one, `dataDirs` followed by the source
 * checkout's data roots, paths against the working directory.
 */
export async function calibrationTokens(
  modelDir: string,
  cal: PipelineConfig['calibration'],
  opts: { resolver?: Resolver; dataDirs?: string[] } = {},
): Promise<{ sequences: number[][]; source: string }> {
  const resolver =
    opts.resolver ??
    createResolver({
      baseDir: process.cwd(),
      modelRoots: [],
      datasetRoots: [...(opts.dataDirs ?? []), ...sourceTreeRoots().datasetRoots],
    });
  const src = cal.text !== undefined ? { text: cal.text } : { dataset: cal.dataset };
  const t = await sourceText(src, resolver, 'calibration.');
  const tok = await loadTokenizer(modelDir);
  const sequences = sampleCalibration(t.text, {
    nSamples: cal.samples,
    seqLen: cal.seqLen,
    seed: cal.seed,
    tokenize: (s) => tok.encode(s),
  });
  return { sequences, source: t.builtin ?? t.file };
}
