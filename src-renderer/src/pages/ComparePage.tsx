// Compare two or more saved runs of any age: charts, metrics with deltas against a baseline, the
// config diff, per-layer deltas, and CSV / Markdown export of the same tables.
import { protocolText } from '@contract/protocol';
import { useCallback, useId, useMemo, useState } from 'react';
import { formattedTable } from '../compare/cell-format';
import { configDiffTable, layerDeltaTable, metricsTable, runLabel } from '../compare/comparison';
import { protocolGroups } from '../compare/protocol-match';
import { downloadText, toCsv, toMarkdown } from '../compare/table-export';
import { CompareCharts } from '../components/compare/CompareCharts';
import { ExportTableView } from '../components/compare/ExportTableView';
import { ProtocolWarning } from '../components/compare/ProtocolWarning';
import { InlineError } from '../components/InlineError';
import { Panel } from '../components/Panel';
import { ReportButtons } from '../components/ReportButtons';
import { StatusBadge } from '../components/StatusBadge';
import { useApiQuery } from '../hooks/use-api-query';
import { navigate, useHashLocation } from '../hooks/use-hash-location';
import { useRunDetails } from '../hooks/use-run-details';
import { filterRuns, runModel, runPipelineSummary } from '../runs/run-list-model';

function setQuery(ids: number[], baseline: number | null) {
  const q = new URLSearchParams();
  if (ids.length) q.set('runs', ids.join(','));
  if (baseline !== null && ids.includes(baseline)) q.set('baseline', String(baseline));
  navigate(`/compare${q.size ? `?${q}` : ''}`);
}

function RunPicker({ ids, baseline }: { ids: number[]; baseline: number | null }) {
  const all = useApiQuery('runs.table', {}, ['runs.changed']);
  const [text, setText] = useState('');
  const filterId = useId();
  const runs = filterRuns(all.data ?? [], text, '').slice(0, 200);
  const toggle = (id: number) =>
    setQuery(ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id].sort((a, b) => a - b), baseline);
  return (
    <Panel title="Runs to compare">
      <div className="toolbar">
        <label htmlFor={filterId}>Find runs</label>
        <input
          id={filterId}
          className="input"
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      <InlineError error={all.error} />
      <ul className="pick-list" aria-label="Runs to compare">
        {runs.map((r) => (
          <li key={r.id}>
            <label>
              <input type="checkbox" checked={ids.includes(r.id)} onChange={() => toggle(r.id)} />
              <span>#{r.id}</span> <StatusBadge status={r.status} /> <span>{runModel(r)}</span>{' '}
              <span className="muted">{runPipelineSummary(r)}</span>
            </label>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

export function ComparePage() {
  const { query } = useHashLocation();
  const ids = (query.get('runs') ?? '')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const baselineParam = Number(query.get('baseline'));
  const baseline = ids.includes(baselineParam) ? baselineParam : (ids[0] ?? null);
  const { runs, error, loading } = useRunDetails(ids);
  const baselineId = useId();
  const metrics = useMemo(() => metricsTable(runs, baseline), [runs, baseline]);
  const diff = useMemo(() => configDiffTable(runs), [runs]);
  const layers = useMemo(() => layerDeltaTable(runs, baseline), [runs, baseline]);
  const stamp = () => new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const idsKey = ids.join(',');
  // the matched baseline joins the comparison as its baseline
  const onMatched = useCallback(
    (runId: number) => {
      const cur = idsKey.split(',').map(Number);
      setQuery(
        [...new Set([...cur, runId])].sort((a, b) => a - b),
        runId,
      );
    },
    [idsKey],
  );

  const exportCsv = () => downloadText(`moe-compare-${stamp()}.csv`, toCsv(metrics), 'text/csv');
  const exportMd = () =>
    downloadText(
      `moe-compare-${stamp()}.md`,
      [
        `# Run comparison (baseline ${runs.find((r) => r.id === baseline) ? runLabel(runs.find((r) => r.id === baseline)!) : '—'})\n`,
        `Evaluation protocols (deltas of perplexity and speed only within one):\n\n${protocolGroups(runs)
          .map((g) => `- ${g.runIds.map((id) => `#${id}`).join(', ')}: ${protocolText(g.protocol)}`)
          .join('\n')}\n`,
        toMarkdown(formattedTable(metrics), 'Metrics'),
        toMarkdown(diff, 'Config differences'),
        toMarkdown(layers, 'Per-layer'),
      ].join('\n'),
      'text/markdown',
    );

  return (
    <div className="stack">
      <RunPicker ids={ids} baseline={baseline} />
      {ids.length < 2 ? (
        <p className="muted" data-testid="compare-hint">
          Pick two or more runs to compare.
        </p>
      ) : null}
      <InlineError error={error} />
      {loading ? <p className="muted">Loading runs…</p> : null}
      {runs.length >= 2 ? (
        <>
          <Panel
            title="Comparison"
            actions={
              <>
                <label htmlFor={baselineId}>Baseline</label>
                <select
                  id={baselineId}
                  className="input"
                  value={baseline ?? ''}
                  onChange={(e) => setQuery(ids, Number(e.target.value))}
                >
                  {runs.map((r) => (
                    <option key={r.id} value={r.id}>
                      {runLabel(r)}
                    </option>
                  ))}
                </select>
                <button type="button" className="button ghost" onClick={exportCsv}>
                  Export CSV
                </button>
                <button type="button" className="button ghost" onClick={exportMd}>
                  Export Markdown
                </button>
                <ReportButtons ids={runs.map((r) => r.id)} baseline={baseline} />
              </>
            }
          >
            <ProtocolWarning runs={runs} baselineId={baseline} onMatched={onMatched} />
            <CompareCharts runs={runs} baselineId={baseline} />
            <h3 className="section-title">Metrics (Δ relative to the baseline)</h3>
            <ExportTableView table={metrics} label="Compared metrics" />
          </Panel>
          <Panel title="Config differences">
            {diff.rows.length === 0 ? (
              <p className="muted">The configs are identical.</p>
            ) : (
              <ExportTableView table={diff} label="Config differences" />
            )}
          </Panel>
          <Panel title="Per-layer deltas">
            {layers.rows.length === 0 ? (
              <p className="muted">No layer records.</p>
            ) : (
              <ExportTableView table={layers} label="Per-layer deltas" />
            )}
          </Panel>
        </>
      ) : null}
    </div>
  );
}
