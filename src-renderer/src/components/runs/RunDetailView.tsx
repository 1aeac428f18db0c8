// One run: live progress with Cancel while it runs; then its metrics, per-layer views (heatmap of
// per-expert statistics and a layer table), artifacts and the config it ran with.
import { useEffect, useMemo } from 'react';
import { formatBytes, formatCount, formatNumber, formatPercent } from '../../format/numbers';
import { formatDuration, formatTimestamp, runSeconds } from '../../format/run-format';
import { useApiQuery } from '../../hooks/use-api-query';
import { useRunProgress } from '../../hooks/use-run-progress';
import { expertGrid, layerRows } from '../../runs/layer-stats';
import { metricOf, metricsMap, RUN_METRIC_LABELS, type RunMetricId } from '../../runs/run-metrics';
import { InlineError } from '../InlineError';
import { JobProgressView } from '../JobProgressView';
import { KeyValues } from '../KeyValues';
import { Panel } from '../Panel';
import { StatusBadge } from '../StatusBadge';
import { ExpertHeatmap } from './ExpertHeatmap';
import { LayerTable } from './LayerTable';

const FORMAT: Record<RunMetricId, (v: number | null) => string> = {
  ppl: formatNumber,
  tokensPerSecond: formatNumber,
  peakRssBytes: formatBytes,
  targetRatio: formatPercent,
  achievedRatio: formatPercent,
  paramsBefore: formatCount,
  paramsAfter: formatCount,
};

export function RunDetailView({ runId }: { runId: number }) {
  const run = useApiQuery('runs.get', { id: runId }, ['runs.changed']);
  const live = useRunProgress(runId);
  const { reload } = run;
  const layerKey = live.progress ? `${live.progress.step}:${live.progress.layer}` : '';
  // layer records arrive with progress: refresh when the runner moves on, not on every event
  useEffect(() => {
    if (layerKey) reload();
  }, [layerKey, reload]);

  const d = run.data;
  const grid = useMemo(() => (d ? expertGrid(d.layers) : null), [d]);
  const rows = useMemo(() => (d ? layerRows(d.layers) : []), [d]);
  if (!d) return run.error ? <InlineError error={run.error} /> : <p className="muted">Loading run…</p>;
  const active = d.status === 'running' || d.status === 'queued';
  const metrics = metricsMap(d.metrics);
  const known = (Object.keys(RUN_METRIC_LABELS) as RunMetricId[])
    .map((id) => [id, metricOf(metrics, id)] as const)
    .filter(([, v]) => v !== null);
  const cfg = (d.config as { config?: unknown } | null)?.config ?? d.config;

  return (
    <div className="stack">
      <header className="run-header">
        <a href="#/runs" className="back-link">
          ← Runs
        </a>
        <h2>Run #{d.id}</h2>
        <StatusBadge status={d.status} />
        <span className="muted">
          {d.kind} · {formatTimestamp(d.createdAt)} · {formatDuration(runSeconds(d))}
        </span>
        <a className="button ghost" href={`#/compare?runs=${d.id}`}>
          Compare…
        </a>
      </header>
      {active || live.progress ? (
        <Panel title="Progress">
          {active ? (
            <>
              <JobProgressView progress={live.progress} />
              <button type="button" className="button danger" onClick={live.cancel} disabled={!live.jobId}>
                Cancel run
              </button>
              <InlineError error={live.cancelError} />
            </>
          ) : (
            <p className="muted" data-testid="run-ended">
              Ended: {d.status}
            </p>
          )}
        </Panel>
      ) : null}
      {d.error ? (
        <p className="inline-error" role="alert">
          {d.error}
        </p>
      ) : null}
      <Panel title="Metrics">
        {d.metrics.length === 0 ? <p className="muted">No metrics recorded{active ? ' yet' : ''}.</p> : null}
        <KeyValues
          wide
          label="Headline metrics"
          items={known.map(([id, v]) => [RUN_METRIC_LABELS[id], FORMAT[id](v)])}
        />
        {d.metrics.length > 0 ? (
          <details className="more">
            <summary>All {d.metrics.length} recorded metrics</summary>
            <table className="table compact" aria-label="All metrics">
              <tbody>
                {d.metrics.map((m, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a metric name may repeat per dataset
                  <tr key={i}>
                    <th scope="row" className="mono">
                      {m.name}
                    </th>
                    <td className="num">{formatNumber(m.value)}</td>
                    <td className="muted">{[m.dataset, m.unit].filter(Boolean).join(' · ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        ) : null}
      </Panel>
      <Panel title="Per-layer views">
        {d.layers.length === 0 ? (
          <p className="muted">No layer records{active ? ' yet' : ''}.</p>
        ) : (
          <>
            {grid ? <ExpertHeatmap grid={grid} /> : null}
            <LayerTable rows={rows} />
          </>
        )}
      </Panel>
      {d.artifacts.length > 0 ? (
        <Panel title="Artifacts">
          <ul className="plain-list">
            {d.artifacts.map((a) => (
              <li key={a.id} className="mono small">
                {a.kind}: {a.path} ({formatBytes(a.bytes)})
              </li>
            ))}
          </ul>
        </Panel>
      ) : null}
      <Panel title="Config">
        <pre className="code-block">{JSON.stringify(cfg, null, 2)}</pre>
      </Panel>
    </div>
  );
}
