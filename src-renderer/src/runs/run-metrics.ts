// The handful of numbers every run view shows, read from whichever name the engine recorded them
// under (camelCase headline names or the compress job's snake_case ones) with config fallbacks.
import type { RunRow } from '@contract';

export type RunMetricId =
  | 'ppl'
  | 'tokensPerSecond'
  | 'peakRssBytes'
  | 'targetRatio'
  | 'achievedRatio'
  | 'paramsBefore'
  | 'paramsAfter';

const ALIASES: Record<RunMetricId, string[]> = {
  ppl: ['ppl', 'perplexity'],
  tokensPerSecond: ['tokensPerSecond', 'tokens_per_second'],
  peakRssBytes: ['peakRssBytes', 'peak_rss_bytes', 'peakRss'],
  targetRatio: ['targetRatio', 'target_ratio'],
  achievedRatio: ['achievedRatio', 'achieved_ratio', 'compression_ratio'],
  paramsBefore: ['paramsBefore', 'params_before'],
  paramsAfter: ['paramsAfter', 'params_after'],
};

export const RUN_METRIC_LABELS: Record<RunMetricId, string> = {
  ppl: 'Perplexity',
  tokensPerSecond: 'Tokens/s',
  peakRssBytes: 'Peak memory',
  targetRatio: 'Target ratio',
  achievedRatio: 'Achieved ratio',
  paramsBefore: 'Params before',
  paramsAfter: 'Params after',
};

export function metricOf(metrics: Record<string, number>, id: RunMetricId): number | null {
  for (const name of ALIASES[id]) {
    const v = metrics[name];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

export function runMetric(
  run: Pick<RunRow, 'metrics' | 'headline' | 'configTargetRatio'>,
  id: RunMetricId,
): number | null {
  const v = metricOf(run.metrics, id) ?? metricOf(run.headline, id);
  if (v === null && id === 'targetRatio') return run.configTargetRatio;
  return v;
}

/** Metrics from a detail record list (first value of each name wins). */
export function metricsMap(list: readonly { name: string; value: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of list) if (!(m.name in out)) out[m.name] = m.value;
  return out;
}
