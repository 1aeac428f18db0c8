// One sweep at #/sweeps/<id>: live progress (reloaded on `sweeps.changed` and `runs.changed`),
// cancel / resume, and — as points settle — its surfaces for the chosen metric: per ratio the
// simplex heatmaps, order sensitivity, best of single / pair / triple, and the best-strategy map.
import { betterOf, orderSensitivityGrids, simplexGrids, sweepMetrics } from '@contract/sweep-grid';
import { sweepSurfaces } from '@contract/sweep-surfaces';
import { useId, useMemo, useState } from 'react';
import { useApi } from '../../api/api-context';
import { downloadText } from '../../compare/table-export';
import { useApiQuery } from '../../hooks/use-api-query';
import { progressFraction } from '../../sweeps/surface-layout';
import { InlineError } from '../InlineError';
import { Panel } from '../Panel';
import { ProgressBar } from '../ProgressBar';
import { StatusBadge } from '../StatusBadge';
import { BestOfBars } from './BestOfBars';
import { StrategyMap } from './StrategyMap';
import { SurfaceHeatmap } from './SurfaceHeatmap';

export function SweepDetailView({ sweepId }: { sweepId: number }) {
  const api = useApi();
  const q = useApiQuery('sweeps.get', { id: sweepId }, ['sweeps.changed', 'runs.changed']);
  const [metric, setMetric] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [workers, setWorkers] = useState(1);
  const metricId = useId();
  const view = q.data;
  const metrics = useMemo(() => (view ? sweepMetrics(view.points) : []), [view]);
  const m = metric && metrics.includes(metric) ? metric : (metrics[0] ?? 'ppl');
  const better = betterOf(m);
  const surfaces = useMemo(() => (view ? sweepSurfaces(view.points, m, better) : null), [view, m, better]);

  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      q.reload();
    } catch (e) {
      setError(e);
    }
  };
  if (!view)
    return (
      <Panel title={`Sweep #${sweepId}`}>
        {q.error ? <InlineError error={q.error} /> : <p className="muted">Loading…</p>}
      </Panel>
    );
  const { sweep, progress } = view;
  const status = view.interrupted ? 'interrupted' : sweep.status;
  const active = status === 'running' || status === 'planned';
  const resumable = !active && progress.succeeded + progress.refused < progress.total;
  const report = (format: 'html' | 'md' | 'csv') =>
    act(async () => {
      const r = await api.call('sweeps.report', { id: sweepId, format, metric: m });
      downloadText(r.filename, r.content, r.mime);
    });
  return (
    <div className="sweep-detail" data-testid="sweep-detail">
      <Panel
        title={`Sweep #${sweep.id} ${sweep.name}`}
        actions={
          <>
            <a className="button ghost" href="#/sweeps">
              All sweeps
            </a>
            <button
              type="button"
              className="button ghost"
              disabled={!active || sweep.cancelRequested}
              onClick={() => void act(() => api.call('sweeps.cancel', { id: sweepId }))}
            >
              {sweep.cancelRequested && active ? 'Cancelling…' : 'Cancel'}
            </button>
            <input
              aria-label="Workers for resume"
              className="input narrow"
              type="number"
              min={1}
              max={64}
              value={workers}
              onChange={(e) => setWorkers(Math.max(1, Math.min(64, Math.trunc(Number(e.target.value)) || 1)))}
            />
            <button
              type="button"
              className="button"
              disabled={!resumable}
              onClick={() => void act(() => api.call('sweeps.start', { id: sweepId, workers }))}
            >
              Resume
            </button>
            {(['html', 'md', 'csv'] as const).map((f) => (
              <button key={f} type="button" className="button ghost" onClick={() => void report(f)}>
                Report {f.toUpperCase()}
              </button>
            ))}
          </>
        }
      >
        <p>
          <StatusBadge status={status} /> {sweep.mode ?? 'not started'} · {progress.total} points:{' '}
          {progress.succeeded} succeeded
          {progress.reused ? ` (${progress.reused} reused)` : ''}, {progress.running} running,{' '}
          {progress.pending} pending
          {progress.failed ? `, ${progress.failed} failed` : ''}
          {progress.refused ? `, ${progress.refused} refused` : ''}
          {progress.cancelled ? `, ${progress.cancelled} cancelled` : ''}
          {sweep.seconds !== null ? ` · ${sweep.seconds.toFixed(1)} s` : ''}
        </p>
        <ProgressBar fraction={progressFraction(progress)} label={`Sweep ${sweep.id} progress`} />
        <InlineError error={q.error ?? error} />
        <div className="toolbar">
          <label htmlFor={metricId}>Metric</label>
          <select id={metricId} className="input" value={m} onChange={(e) => setMetric(e.target.value)}>
            {(metrics.length ? metrics : ['ppl']).map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
          <span className="small muted">
            {better} is better · every cell links to its run · exports: SVG, PNG, CSV (full precision)
          </span>
        </div>
      </Panel>
      {surfaces?.ratios.length ? (
        <>
          <Panel title="Best strategy per compression level">
            <StrategyMap surfaces={surfaces} />
          </Panel>
          <Panel title="Best of single / pair / triple">
            <BestOfBars surfaces={surfaces} />
          </Panel>
          <Panel title="Order sensitivity">
            {orderSensitivityGrids(surfaces, better).length ? (
              <div className="surface-grid">
                {orderSensitivityGrids(surfaces, better).map((g) => (
                  <SurfaceHeatmap key={g.id} grid={g} better={better} />
                ))}
              </div>
            ) : (
              <p className="muted">No pair has results in both orders at the same shares yet.</p>
            )}
          </Panel>
          {surfaces.ratios.map((r) => (
            <Panel key={r} title={`Contribution simplex · ratio ${r}`}>
              <div className="surface-grid" data-ratio={r}>
                {simplexGrids(surfaces, r).map((g) => (
                  <SurfaceHeatmap key={g.id} grid={g} better={better} />
                ))}
              </div>
            </Panel>
          ))}
        </>
      ) : (
        <Panel title="Surfaces">
          <p className="muted" data-testid="sweep-no-results">
            No point has a result with {m} yet; the surfaces appear as runs finish.
          </p>
        </Panel>
      )}
    </div>
  );
}
