// One run: live progress with Cancel while it runs; then its metrics, its steps in order (the
// pipeline's step sequence) with per-step, per-layer views (heatmap of per-expert statistics with
// removed experts and dropped layers, and a layer table), artifacts and the config it ran with.
import { ANALYSIS_TITLES, analysisOfKind } from '@contract/analyses';
import { useEffect, useMemo, useState } from 'react';
import { formatBytes, formatCount, formatNumber, formatPercent } from '../../format/numbers';
import { formatDuration, formatTimestamp, runSeconds } from '../../format/run-format';
import { useApiQuery } from '../../hooks/use-api-query';
import { useRunProgress } from '../../hooks/use-run-progress';
import { layerRows, runSteps, stepGrid, stepSummary } from '../../runs/layer-stats';
import { metricValues, offTargetText } from '../../runs/off-target';
import { metricOf, metricsMap, RUN_METRIC_LABELS, type RunMetricId } from '../../runs/run-metrics';
import { AnalysesPanel } from '../analyses/AnalysesPanel';
import { AnalysisView } from '../analyses/AnalysisView';
import { InlineError } from '../InlineError';
import { JobProgressView } from '../JobProgressView';
import { KeyValues } from '../KeyValues';
import { Panel } from '../Panel';
import { ReportButtons } from '../ReportButtons';
import { StatusBadge } from '../StatusBadge';
import { ExpertHeatmap } from './ExpertHeatmap';
import { LayerTable } from './LayerTable';
import { RunActions } from './RunActions';
import { RunExport } from './RunExport';

const FORMAT: Record<RunMetricId, (v: number | null) => string> = {
  ppl: formatNumber,
  tokensPerSecond: formatNumber,
  peakRssBytes: formatBytes,
  targetRatio: formatPercent,
  achievedRatio: formatPercent,
  paramsBefore: formatCount,
  paramsAfter: formatCount,
  accAvg: formatPercent,
  weightBytesAfter: formatBytes,
  nonzerosAfter: formatCount,
  prefillTokensPerSecond: formatNumber,
  decodeTokensPerSecond: formatNumber,
  flopsPerToken: formatCount,
  weightBytes: formatBytes,
};

/** The folder a compress run exported to (its params' outDir, against their baseDir), or null. */
function exportFolder(config: unknown): string | null {
  const c = (config ?? {}) as { outDir?: unknown; baseDir?: unknown };
  if (typeof c.outDir !== 'string') return null;
  if (/^([/\\]|[A-Za-z]:)/.test(c.outDir) || typeof c.baseDir !== 'string') return c.outDir;
  return `${c.baseDir.replace(/[/\\]$/, '')}/${c.outDir}`;
}

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
  const cfg = d ? ((d.config as { config?: unknown } | null)?.config ?? d.config) : null;
  const cfgSteps = useMemo(() => {
    const s = (cfg as { steps?: unknown } | null)?.steps;
    return Array.isArray(s) ? s : [];
  }, [cfg]);
  const steps = useMemo(() => (d ? runSteps(d.layers, cfgSteps) : []), [d, cfgSteps]);
  const [chosen, setChosen] = useState<number | null>(null);
  // follow the newest step while the run goes on, until the user picks one
  const shownIndex = chosen !== null && chosen < steps.length ? chosen : Math.max(0, steps.length - 1);
  const shown = steps[shownIndex];
  const grid = useMemo(() => (steps.length ? stepGrid(steps, shownIndex) : null), [steps, shownIndex]);
  const rows = useMemo(() => (shown ? layerRows(shown.records) : []), [shown]);
  if (!d) return run.error ? <InlineError error={run.error} /> : <p className="muted">Loading run…</p>;
  const active = d.status === 'running' || d.status === 'queued';
  const analysis = analysisOfKind(d.kind);
  const exportedModel = d.kind === 'compress' ? exportFolder(d.config) : null;
  const metrics = metricsMap(d.metrics);
  const known = (Object.keys(RUN_METRIC_LABELS) as RunMetricId[])
    .map((id) => [id, metricOf(metrics, id)] as const)
    .filter(([, v]) => v !== null);
  const sequence = cfgSteps
    .map((x) => (x as { method?: unknown } | null)?.method)
    .filter((m): m is string => typeof m === 'string');

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
        {sequence.length ? (
          <span className="step-sequence mono" data-testid="run-step-sequence">
            {sequence.join(' → ')}
          </span>
        ) : null}
        <a className="button ghost" href={`#/compare?runs=${d.id}`}>
          Compare…
        </a>
        <RunActions run={d} />
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
      {offTargetText(metricValues(d.metrics)) ? (
        <p className="warn-text" role="status" data-testid="off-target">
          {offTargetText(metricValues(d.metrics))}
        </p>
      ) : null}
      <Panel title="Metrics" actions={<ReportButtons ids={[d.id]} />}>
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
      {analysis ? (
        <Panel title={ANALYSIS_TITLES[analysis]}>
          {d.layers.length === 0 ? (
            <p className="muted">No layer results{active ? ' yet' : ''}.</p>
          ) : (
            <AnalysisView kind={analysis} layers={d.layers} />
          )}
        </Panel>
      ) : null}
      {exportedModel && d.status === 'succeeded' ? (
        <AnalysesPanel model={exportedModel} modelId={null} title="Analyses of the compressed model" />
      ) : null}
      {analysis ? null : (
        <Panel title={steps.length > 1 ? 'Steps and per-layer views' : 'Per-layer views'}>
          {d.layers.length === 0 ? (
            <p className="muted">No layer records{active ? ' yet' : ''}.</p>
          ) : (
            <>
              {steps.length > 1 ? (
                <div className="step-tabs" role="tablist" aria-label="Pipeline steps">
                  {steps.map((st, i) => (
                    <button
                      key={st.step}
                      type="button"
                      role="tab"
                      id={`run-step-tab-${st.step}`}
                      aria-selected={i === shownIndex}
                      aria-controls="run-step-panel"
                      className={`step-tab${i === shownIndex ? ' is-selected' : ''}`}
                      onClick={() => setChosen(i)}
                    >
                      {st.step + 1}. {st.method ?? 'step'}
                    </button>
                  ))}
                </div>
              ) : null}
              <section
                id="run-step-panel"
                role={steps.length > 1 ? 'tabpanel' : undefined}
                aria-labelledby={steps.length > 1 && shown ? `run-step-tab-${shown.step}` : undefined}
                data-testid="run-step"
                data-step={shown?.step}
              >
                {shown ? (
                  <p className="muted small" data-testid="run-step-summary">
                    {steps.length > 1 ? `Step ${shown.step + 1} (${shown.method ?? 'unknown method'}): ` : ''}
                    {stepSummary(shown)}
                  </p>
                ) : null}
                {grid ? <ExpertHeatmap key={shown?.step ?? 0} grid={grid} /> : null}
                <LayerTable rows={rows} />
              </section>
            </>
          )}
        </Panel>
      )}
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
      <RunExport run={d} />
      <Panel title="Config">
        <pre className="code-block">{JSON.stringify(cfg, null, 2)}</pre>
      </Panel>
    </div>
  );
}
