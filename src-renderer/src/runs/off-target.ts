// A run that ended off its target by more than the knobs' rounding tolerance (the compress job
// records `offTargetBy` then) says so wherever it is shown: "achieved 27.8% for a 40.0% target".
import { formatPercent } from '@contract/units';

export function offTargetText(metrics: Readonly<Record<string, number>>): string | null {
  const off = metrics.offTargetBy;
  if (off === undefined || !Number.isFinite(off)) return null;
  const a = metrics.achievedRatio;
  const t = metrics.targetRatio;
  return a !== undefined && t !== undefined
    ? `Off target: achieved ${formatPercent(a)} for a ${formatPercent(t)} target (off by ${formatPercent(off)})`
    : `Off target by ${formatPercent(off)}`;
}

/** A run's recorded metrics by name (first value wins, as lists show them). */
export function metricValues(ms: readonly { name: string; value: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of ms) if (!(m.name in out)) out[m.name] = m.value;
  return out;
}
