// The run vocabulary's metrics: every name a job records, with its unit, its label and whether run
// lists show it by default. The store fills in unit and headline from here, the CLI and the
// renderer label and format values from here, so a name means the same thing everywhere.
// No Node, Electron or zod imports: the renderer imports this file directly (`@contract/metrics`).
import { formatBytes, formatCount, formatPercent, formatSignificant } from './units';

/** `ratio`: a 0..1 share; `params`: a parameter count; `bytes`: a byte count; null: dimensionless. */
export type MetricUnit = 'bytes' | 'params' | 'ratio' | 'tok/s' | 'tokens' | 'GFLOP/s';

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
  tokensPerSecond: { unit: 'tok/s', label: 'Tokens/s', headline: true },
  peakRssBytes: { unit: 'bytes', label: 'Peak memory', headline: true },
  paramsBefore: { unit: 'params', label: 'Params before', headline: false },
  paramsAfter: { unit: 'params', label: 'Params after', headline: true },
  weightBytesBefore: { unit: 'bytes', label: 'Weights before', headline: false },
  weightBytesAfter: { unit: 'bytes', label: 'Weights after', headline: false },
  /** share of the parameters the run was asked to remove (1 − paramsAfter/paramsBefore) */
  targetRatio: { unit: 'ratio', label: 'Target ratio', headline: true },
  /** share of the parameters the run removed: 1 − paramsAfter/paramsBefore (0.3 keeps 70%) */
  achievedRatio: { unit: 'ratio', label: 'Achieved ratio', headline: true },
  /** |achievedRatio − targetRatio| when the solver could not meet the target */
  offTargetBy: { unit: 'ratio', label: 'Off target by', headline: false },
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
