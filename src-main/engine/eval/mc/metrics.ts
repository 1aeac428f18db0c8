// lm-eval 0.4 multiple-choice scoring (api/task.py process_results, api/metrics.py):
// pred = argmax(lls) (first maximum on ties, as np.argmax), pred_norm = argmax(lls / len(choice)),
// acc = [pred == gold], acc_norm = [pred_norm == gold]; aggregated by mean with
// mean_stderr = sample_stddev / sqrt(n) (lm-eval reports "N/A" for n = 1: null here).
import { EngineError } from '../../errors';
import { pyLen } from './python-str';

export interface McDocScore {
  acc: number;
  accNorm: number;
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

export function scoreDoc(logliks: readonly number[], choices: readonly string[], gold: number): McDocScore {
  if (logliks.length !== choices.length)
    throw new EngineError(`${logliks.length} log-likelihoods for ${choices.length} choices`, {
      field: 'logliks',
    });
  if (logliks.length === 0) throw new EngineError('a document with no choices', { field: 'choices' });
  const bad = logliks.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) throw new EngineError(`log-likelihood of choice ${bad} is NaN`, { field: 'logliks' });
  // numpy: x / 0.0 is ±inf (or nan for 0/0); an empty choice string is never produced by the tasks
  const norm = logliks.map((v, i) => v / pyLen(choices[i]!));
  return { acc: argmax(logliks) === gold ? 1 : 0, accNorm: argmax(norm) === gold ? 1 : 0 };
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** api/metrics.py mean_stderr: sqrt(Σ(x − μ)² / (n − 1)) / sqrt(n); null for n < 2. */
export function meanStderr(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const mu = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - mu) ** 2;
  return Math.sqrt(s / (xs.length - 1)) / Math.sqrt(xs.length);
}
