// How run fields read in tables: durations, timestamps and headline metrics with their units.
import type { RunSummary } from '@contract';
import { formatMetricValue, type MetricName, metricSpec } from '@contract/metrics';
import { formatBytes, formatCount, formatPercent, formatSignificant } from '@contract/units';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function runSeconds(run: Pick<RunSummary, 'seconds' | 'startedAt' | 'finishedAt'>): number | null {
  if (run.seconds !== null) return run.seconds;
  if (!run.startedAt || !run.finishedAt) return null;
  return (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
}

export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

// Short headline forms; the value formatting and the names are the contract's (one vocabulary).
const HEADLINE: Partial<Record<MetricName, (v: number) => string>> = {
  ppl: (v) => `ppl ${formatSignificant(v)}`,
  tokensPerSecond: (v) => `${formatSignificant(v)} tok/s`,
  peakRssBytes: (v) => `peak ${formatBytes(v)}`,
  // both ratios are removed shares (1 − paramsAfter/paramsBefore): the headline says what is kept
  targetRatio: (v) => `target kept ${formatPercent(1 - v, 0)}`,
  achievedRatio: (v) => `kept ${formatPercent(1 - v)}`,
  paramsAfter: (v) => `${formatCount(v)} params`,
};

function formatMetric(name: string, v: number): string {
  const short = HEADLINE[name as MetricName];
  if (short) return short(v);
  const spec = metricSpec(name);
  if (spec?.qualifier) return `${formatMetricValue(name, v)} ${spec.qualifier}`;
  return `${spec?.label ?? name} ${formatMetricValue(name, v)}`;
}

const known = (name: string) => metricSpec(name) !== null;

/** Headline metrics as short labelled strings, known ones first. */
export function formatHeadline(headline: Record<string, number>, max = 4): string[] {
  const keys = Object.keys(headline).sort((a, b) => Number(!known(a)) - Number(!known(b)));
  return keys.slice(0, max).map((k) => formatMetric(k, headline[k]!));
}
