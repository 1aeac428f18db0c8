// The handful of numbers every run view shows, by the contract's metric names (the names every job
// records), with config fallbacks.
import type { RunRow } from '@contract';
import { METRICS, type MetricName } from '@contract/metrics';

const RUN_METRIC_IDS = [
  'ppl',
  'tokensPerSecond',
  'peakRssBytes',
  'targetRatio',
  'achievedRatio',
  'paramsBefore',
  'paramsAfter',
  'accAvg',
  'weightBytesAfter',
  'nonzerosAfter',
  'prefillTokensPerSecond',
  'decodeTokensPerSecond',
  'flopsPerToken',
  'weightBytes',
] as const satisfies readonly MetricName[];

export type RunMetricId = (typeof RUN_METRIC_IDS)[number];

export const RUN_METRIC_LABELS = Object.fromEntries(
  RUN_METRIC_IDS.map((id) => [id, METRICS[id].label]),
) as Record<RunMetricId, string>;

export function metricOf(metrics: Record<string, number>, id: RunMetricId): number | null {
  const v = metrics[id];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function runMetric(
  run: Pick<RunRow, 'metrics' | 'headline' | 'configTargetRatio'>,
  id: RunMetricId,
): number | null {
  const v = metricOf(run.metrics, id) ?? metricOf(run.headline, id);
  if (v === null && id === 'targetRatio') return run.configTargetRatio;
  // a compress run states its stored size as weightBytesAfter, an eval.speed run as weightBytes
  if (v === null && id === 'weightBytes') return runMetric(run, 'weightBytesAfter');
  return v;
}

/** Metrics from a detail record list (first value of each name wins). */
export function metricsMap(list: readonly { name: string; value: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of list) if (!(m.name in out)) out[m.name] = m.value;
  return out;
}
