// A comparison of runs as tables: each run's step sequence and headline metrics with deltas against
// a baseline, the config diff, and per-layer deltas. The page renders these and exports them as
// CSV / Markdown. The target is what the run recorded (`targetRatio`: the solver's whole-model
// target, which a step's own `ratio` may set), not a guess from `config.target.ratio`.
import type { RunDetail } from '@contract';
import { protocolText } from '@contract/protocol';
import { type LayerRow, layerRows } from '../runs/layer-stats';
import { metricOf, metricsMap, RUN_METRIC_LABELS, type RunMetricId } from '../runs/run-metrics';
import { diffConfigs, formatLeaf } from './json-diff';
import { comparableRuns, PROTOCOL_METRICS, runPplProtocol } from './protocol-match';
import type { ExportTable } from './table-export';

export const COMPARE_METRICS: RunMetricId[] = [
  'ppl',
  'accAvg',
  'paramsAfter',
  'weightBytesAfter',
  'nonzerosAfter',
  'achievedRatio',
  'targetRatio',
  'tokensPerSecond',
  'peakRssBytes',
  'prefillTokensPerSecond',
  'decodeTokensPerSecond',
  'flopsPerToken',
];

export const runConfig = (d: RunDetail): unknown =>
  (d.config as { config?: unknown } | null)?.config ?? d.config;

export function runLabel(d: RunDetail): string {
  const c = runConfig(d) as { name?: unknown } | null;
  return `#${d.id}${typeof c?.name === 'string' ? ` ${c.name}` : ''}`;
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The methods of a run's steps in execution order. */
export function stepSequence(d: RunDetail): string[] {
  const steps = asObj(runConfig(d)).steps;
  return Array.isArray(steps)
    ? steps.map((s) => asObj(s).method).filter((m): m is string => typeof m === 'string')
    : [];
}

/** "expert-prune → svd-llm"; '' for a run without steps. */
export const stepSequenceText = (d: RunDetail): string => stepSequence(d).join(' → ');

/**
 * The whole-model target a config implies, for runs that recorded none (failed early, or older):
 * every step's own `ratio` → the last one's; no step with its own ratio → `target.ratio`; a mix →
 * unknown (only the solver knows which steps share the budget), so null rather than a wrong number.
 */
export function configTargetRatio(config: unknown): number | null {
  const steps = asObj(config).steps;
  const own = (Array.isArray(steps) ? steps : []).map((s) => num(asObj(asObj(s).params).ratio));
  if (own.length > 0 && own.every((v) => v !== null)) return own.at(-1)!;
  if (own.some((v) => v !== null)) return null;
  return num(asObj(asObj(config).target).ratio);
}

export function runMetrics(d: RunDetail): Record<RunMetricId, number | null> {
  const m = metricsMap(d.metrics);
  const out = {} as Record<RunMetricId, number | null>;
  for (const id of Object.keys(RUN_METRIC_LABELS) as RunMetricId[]) out[id] = metricOf(m, id);
  if (out.targetRatio === null) out.targetRatio = configTargetRatio(runConfig(d));
  // an eval.speed run measures a stored model: its weight bytes are the model's size as it is
  if (out.weightBytesAfter === null) out.weightBytesAfter = out.weightBytes;
  return out;
}

/** (v − base) / |base|, or null when either is missing or base is 0. */
export function relativeDelta(v: number | null, base: number | null): number | null {
  if (v === null || base === null || base === 0) return null;
  return (v - base) / Math.abs(base);
}

/**
 * One row per run: metrics and their relative deltas vs the baseline, and the evaluation protocol
 * last. A protocol-dependent metric (PROTOCOL_METRICS) of a run evaluated differently from the
 * baseline gets no delta: the two numbers measure different things.
 */
export function metricsTable(runs: readonly RunDetail[], baselineId: number | null): ExportTable {
  const base = runs.find((r) => r.id === baselineId) ?? null;
  const bm = base ? runMetrics(base) : null;
  const columns = ['run', 'status', 'baseline', 'steps'];
  for (const id of COMPARE_METRICS) columns.push(id, ...(bm ? [`${id}_delta`] : []));
  columns.push('protocol');
  const rows = runs.map((r) => {
    const m = runMetrics(r);
    const matched = base !== null && comparableRuns(r, base);
    const row: (string | number | null)[] = [
      runLabel(r),
      r.status,
      r.id === baselineId ? 'yes' : '',
      stepSequenceText(r) || null,
    ];
    for (const id of COMPARE_METRICS) {
      row.push(m[id]);
      if (bm) {
        const d = PROTOCOL_METRICS.has(id) && !matched ? null : relativeDelta(m[id], bm[id]);
        row.push(d === null ? null : Number(d.toFixed(6)));
      }
    }
    row.push(protocolText(runPplProtocol(r)));
    return row;
  });
  return { columns, rows };
}

export function configDiffTable(runs: readonly RunDetail[]): ExportTable {
  const diff = diffConfigs(runs.map(runConfig));
  return {
    columns: ['path', ...runs.map(runLabel)],
    rows: diff.map((d) => [d.path, ...d.values.map(formatLeaf)]),
  };
}

/** Per layer, the record with a rank or an error (a multi-step run's low-rank step), else the last. */
function layerMap(d: RunDetail): Map<number, LayerRow> {
  const m = new Map<number, LayerRow>();
  const informative = (l: LayerRow) => l.rank !== null || l.relError !== null;
  for (const l of layerRows(d.layers)) {
    const prev = m.get(l.layer);
    if (!prev || informative(l) || !informative(prev)) m.set(l.layer, l);
  }
  return m;
}

/** Per layer: each run's rank and mean relative error, with the error's delta vs the baseline. */
export function layerDeltaTable(runs: readonly RunDetail[], baselineId: number | null): ExportTable {
  const per = runs.map(layerMap);
  const layers = [...new Set(per.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const bi = runs.findIndex((r) => r.id === baselineId);
  const columns = ['layer'];
  for (const [i, r] of runs.entries())
    columns.push(
      `${runLabel(r)} rank`,
      `${runLabel(r)} rel. error`,
      ...(bi >= 0 && i !== bi ? [`${runLabel(r)} Δ error`] : []),
    );
  const rows = layers.map((l) => {
    const row: (string | number | null)[] = [l];
    const baseErr = bi >= 0 ? (per[bi]!.get(l)?.relError ?? null) : null;
    per.forEach((m, i) => {
      const e = m.get(l);
      row.push(e?.rank ?? null, e?.relError ?? null);
      if (bi >= 0 && i !== bi) {
        const d = relativeDelta(e?.relError ?? null, baseErr);
        row.push(d === null ? null : Number(d.toFixed(6)));
      }
    });
    return row;
  });
  return { columns, rows };
}
