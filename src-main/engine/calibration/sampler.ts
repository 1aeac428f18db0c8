// SVD-LLM character-offset calibration sampler (METHODS §1.5, §10.2): join the rows with "\n\n",
// pick a uniformly random character offset i in [0, len − seqLen − 1] (the reference's
// random.randint bounds), tokenize chars [i, i + 10·seqLen), keep the first seqLen tokens, no padding.
// A draw that yields fewer than seqLen tokens is redrawn (the reference silently skipped it and
// returned fewer samples). PRNG: xoshiro128** seeded with SplitMix32 (engine/linalg/prng), so a seed
// gives the same samples on every platform.
import { EngineError } from '../errors';
import { xoshiro128ss } from '../linalg/prng';

const FILE = 'engine/calibration/sampler';

export interface SamplerOptions {
  nSamples: number;
  seqLen: number;
  seed: number;
  tokenize: (text: string) => number[];
  /** characters taken per wanted token (reference: 10) */
  charsPerToken?: number;
  /** total draws allowed before giving up (default max(100, 10·nSamples)) */
  maxDraws?: number;
}

function positiveInt(v: number, field: string): void {
  if (!Number.isInteger(v) || v <= 0)
    throw new EngineError(`must be a positive integer, got ${v}`, { file: FILE, field });
}

export function sampleCalibration(text: string | readonly string[], opts: SamplerOptions): number[][] {
  positiveInt(opts.nSamples, 'nSamples');
  positiveInt(opts.seqLen, 'seqLen');
  if (!Number.isInteger(opts.seed))
    throw new EngineError(`must be an integer, got ${opts.seed}`, { file: FILE, field: 'seed' });
  const charsPerToken = opts.charsPerToken ?? 10;
  positiveInt(charsPerToken, 'charsPerToken');
  const maxDraws = opts.maxDraws ?? Math.max(100, 10 * opts.nSamples);
  positiveInt(maxDraws, 'maxDraws');
  const joined = typeof text === 'string' ? text : text.join('\n\n');
  const span = joined.length - opts.seqLen; // offsets 0 … len − seqLen − 1
  if (span <= 0) {
    throw new EngineError(`text has ${joined.length} characters; need more than seqLen = ${opts.seqLen}`, {
      file: FILE,
      field: 'text',
    });
  }
  const rng = xoshiro128ss(opts.seed);
  const out: number[][] = [];
  let draws = 0;
  while (out.length < opts.nSamples) {
    if (draws >= maxDraws) {
      throw new EngineError(
        `only ${out.length} of ${opts.nSamples} samples reached ${opts.seqLen} tokens in ${draws} draws`,
        { file: FILE, field: 'text', hint: 'use a longer calibration text or a smaller seqLen' },
      );
    }
    draws++;
    const i = rng.int(span);
    const ids = opts.tokenize(joined.slice(i, i + charsPerToken * opts.seqLen));
    if (ids.length >= opts.seqLen) out.push(ids.slice(0, opts.seqLen));
  }
  return out;
}
