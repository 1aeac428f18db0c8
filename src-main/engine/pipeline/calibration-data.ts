// Calibration token sequences for a pipeline config: dataset rows (or a text file) joined and sampled
// with the SVD-LLM character-offset sampler (METHODS §1.5), tokenized by the model's own tokenizer.
import fs from 'node:fs';
import path from 'node:path';
import { sampleCalibration } from '../calibration/sampler';
import { EngineError } from '../errors';
import { defaultDataDirs, loadDatasetRows, resolveDataset } from '../io/datasets';
import { loadTokenizer } from '../io/tokenizer';
import type { PipelineConfig } from './config';

export async function calibrationTokens(
  modelDir: string,
  cal: PipelineConfig['calibration'],
  opts: { dataDirs?: string[] } = {},
): Promise<{ sequences: number[][]; source: string }> {
  let text: string | string[];
  let source: string;
  if (cal.text !== undefined) {
    const file = path.resolve(cal.text);
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new EngineError(
        `cannot read calibration text (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        {
          file,
          field: 'calibration.text',
        },
      );
    }
    source = file;
  } else {
    const ref = resolveDataset(cal.dataset, { dataDirs: [...(opts.dataDirs ?? []), ...defaultDataDirs()] });
    text = await loadDatasetRows(ref);
    source = ref.builtin ?? ref.path;
  }
  const tok = await loadTokenizer(modelDir);
  const sequences = sampleCalibration(text, {
    nSamples: cal.samples,
    seqLen: cal.seqLen,
    seed: cal.seed,
    tokenize: (t) => tok.encode(t),
  });
  return { sequences, source };
}
