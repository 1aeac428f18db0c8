// The run vocabulary's metrics: every name a job records, with its unit, its label and whether run
// lists show it by default. The store fills in unit and headline from here, the CLI and the
// renderer label and format values from here, so a name means the same thing everywhere.
// No Node, Electron or zod imports: the renderer imports this file directly (`@contract/metrics`).
import { formatBytes, formatCount, formatPercent, formatSignificant } from './units';

/** `ratio`: a 0..1 share; `params`: a parameter count; `bytes`: a byte count; null: dimensionless. */
export type MetricUnit = 'bytes' | 'params' | 'ratio' | 'tok/s' | 'tokens' | 'GFLOP/s' | 'FLOP';

export interface MetricSpec {
  unit: MetricUnit | null;
  /** how a table or a form labels the value */
  label: string;
  /** shown in run lists (RunSummary.headline) unless its writer says otherwise */
  headline: boolean;
  /** what tells members of a family apart (`@512` for `gflops@512`) */
  qualifier?: string;
}

export const METRICS = {
  ppl: { unit: null, label: 'Perplexity', headline: true },
  evalTokens: { unit: 'tokens', label: 'Evaluated tokens', headline: false },
  /** zero-shot multiple-choice accuracy of one task (the metric's dataset), lm-eval `acc` (METHODS §8.2) */
  acc: { unit: 'ratio', label: 'Accuracy', headline: false },
  /** lm-eval `acc_norm`: argmax of log-likelihood / choice length in characters */
  accNorm: { unit: 'ratio', label: 'Accuracy (norm)', headline: false },
  accStderr: { unit: 'ratio', label: 'Accuracy stderr', headline: false },
  accNormStderr: { unit: 'ratio', label: 'Accuracy (norm) stderr', headline: false },
  /** mean `acc` over the multiple-choice tasks a run scored */
  accAvg: { unit: 'ratio', label: 'Avg accuracy', headline: true },
  /** documents scored for one multiple-choice task */
  mcDocs: { unit: null, label: 'Documents scored', headline: false },
  tokensPerSecond: { unit: 'tok/s', label: 'Tokens/s', headline: true },
  peakRssBytes: { unit: 'bytes', label: 'Peak memory', headline: true },
  paramsBefore: { unit: 'params', label: 'Params before', headline: false },
  paramsAfter: { unit: 'params', label: 'Params after', headline: true },
  weightBytesBefore: { unit: 'bytes', label: 'Weights before', headline: false },
  weightBytesAfter: { unit: 'bytes', label: 'Weights after', headline: false },
  /** params minus the entries slimming set to zero (S steps) */
  nonzerosAfter: { unit: 'params', label: 'Nonzeros after', headline: false },
  /** share of the parameters the run was asked to remove (1 − paramsAfter/paramsBefore) */
  targetRatio: { unit: 'ratio', label: 'Target ratio', headline: true },
  /** share of the parameters the run removed: 1 − paramsAfter/paramsBefore (0.3 keeps 70%) */
  achievedRatio: { unit: 'ratio', label: 'Achieved ratio', headline: true },
  /** |achievedRatio − targetRatio| when the solver could not meet the target */
  offTargetBy: { unit: 'ratio', label: 'Off target by', headline: false },
  // speed & size (METHODS §8.3, eval.speed and a compress run's evaluate.speed); a compress run
  // records its compressed model's values under these names and the original's under `…Before`
  prefillTokensPerSecond: { unit: 'tok/s', label: 'Prefill tok/s', headline: true },
  decodeTokensPerSecond: { unit: 'tok/s', label: 'Decode tok/s', headline: true },
  /** FLOPs per token from the shapes and the measured routing (engine/eval/flops.ts) */
  flopsPerToken: { unit: 'FLOP', label: 'FLOPs/token', headline: true },
  /** bytes of the stored weights (every tensor of the checkpoint, or the compressed model's accounting) */
  weightBytes: { unit: 'bytes', label: 'Weight bytes', headline: true },
  peakTensorBytes: { unit: 'bytes', label: 'Peak tensor memory', headline: false },
  kvCacheBytes: { unit: 'bytes', label: 'KV cache', headline: false },
  prefillTokensPerSecondBefore: { unit: 'tok/s', label: 'Prefill tok/s before', headline: false },
  decodeTokensPerSecondBefore: { unit: 'tok/s', label: 'Decode tok/s before', headline: false },
  flopsPerTokenBefore: { unit: 'FLOP', label: 'FLOPs/token before', headline: false },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

/** Families of names with a parameter in them: `gflops@512` is the GEMM rate at n = 512. */
const FAMILIES: readonly { pattern: RegExp; spec: (m: RegExpExecArray) => MetricSpec }[] = [
  {
    pattern: /^gflops@(\d+)$/,
    spec: (m) => ({ unit: 'GFLOP/s', label: `GEMM rate @${m[1]}`, headline: false, qualifier: `@${m[1]}` }),
  },
];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** The spec of a known name or family member; null for a name outside the vocabulary. */
export function metricSpec(name: string): MetricSpec | null {
  if (isMetricName(name)) return METRICS[name];
  for (const f of FAMILIES) {
    const m = f.pattern.exec(name);
    if (m) return f.spec(m);
  }
  return null;
}

/** A value in its unit: `3.4 GiB`, `1.23M`, `30.0%`, `812 tok/s`, `12.3`. */
export function formatUnitValue(v: number, unit: string | null): string {
  switch (unit) {
    case 'bytes':
      return formatBytes(v);
    case 'params':
    case 'tokens':
      return formatCount(v);
    case 'FLOP':
      return `${formatCount(v)} FLOP`;
    case 'ratio':
      return formatPercent(v);
    case null:
    case '':
      return formatSignificant(v);
    default:
      return `${formatSignificant(v)} ${unit}`;
  }
}

/** A recorded value in its unit: the vocabulary's unit for a known name, else the recorded one. */
export function formatMetricValue(name: string, v: number, recordedUnit: string | null = null): string {
  return formatUnitValue(v, metricSpec(name)?.unit ?? recordedUnit);
}
