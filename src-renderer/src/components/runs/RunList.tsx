// The runs table: sortable columns, a text and status filter, multi-select, and row windowing so
// hundreds of runs scroll smoothly (only the visible rows are in the DOM).
import type { RunRow } from '@contract';
import { useMemo, useState } from 'react';
import { formatBytes, formatCount, formatNumber, formatPercent } from '../../format/numbers';
import { formatDuration, runSeconds } from '../../format/run-format';
import { offTargetText } from '../../runs/off-target';
import {
  filterRuns,
  type RunSort,
  type RunSortKey,
  runModel,
  runPipelineSummary,
  sortRuns,
} from '../../runs/run-list-model';
import { runMetric } from '../../runs/run-metrics';
import { StatusBadge } from '../StatusBadge';

const ROW = 36;
const VIEW_ROWS = 16;
const OVERSCAN = 8;

const COLUMNS: { key: RunSortKey; label: string; num?: boolean }[] = [
  { key: 'id', label: 'Run', num: true },
  { key: 'status', label: 'Status' },
  { key: 'model', label: 'Model' },
  { key: 'pipeline', label: 'Pipeline' },
  { key: 'targetRatio', label: 'Target', num: true },
  { key: 'achievedRatio', label: 'Achieved', num: true },
  { key: 'ppl', label: 'Perplexity', num: true },
  { key: 'accAvg', label: 'Avg accuracy', num: true },
  { key: 'tokensPerSecond', label: 'Tokens/s', num: true },
  { key: 'peakRssBytes', label: 'Peak memory', num: true },
  { key: 'prefillTokensPerSecond', label: 'Prefill tok/s', num: true },
  { key: 'decodeTokensPerSecond', label: 'Decode tok/s', num: true },
  { key: 'flopsPerToken', label: 'FLOPs/token', num: true },
  { key: 'weightBytes', label: 'Weights', num: true },
  { key: 'duration', label: 'Duration', num: true },
];

export interface RunListProps {
  runs: readonly RunRow[];
  selected: ReadonlySet<number>;
  onSelectedChange(next: Set<number>): void;
  filterText: string;
  status: string;
  /** live progress fraction per running run (hooks/use-live-progress.ts) */
  progress?: ReadonlyMap<number, number>;
}

export function RunList({ runs, selected, onSelectedChange, filterText, status, progress }: RunListProps) {
  const [sort, setSort] = useState<RunSort>({ key: 'id', dir: 'desc' });
  const [scrollTop, setScrollTop] = useState(0);
  const shown = useMemo(
    () => sortRuns(filterRuns(runs, filterText, status), sort),
    [runs, filterText, status, sort],
  );
  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scrollTop + VIEW_ROWS * ROW) / ROW) + OVERSCAN);
  const allShownSelected = shown.length > 0 && shown.every((r) => selected.has(r.id));

  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    onSelectedChange(next);
  };
  const sortBy = (key: RunSortKey) =>
    setSort((s) =>
      s.key === key
        ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' }
        : { key, dir: key === 'id' ? 'desc' : 'asc' },
    );

  if (runs.length === 0)
    return (
      <p className="empty" data-testid="runs-empty">
        No runs yet.
      </p>
    );
  return (
    <div
      className="runs-table-wrap"
      style={{ maxHeight: VIEW_ROWS * ROW + 40 }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      data-testid="runs-scroll"
    >
      <table className="table runs-table" aria-label="Runs" aria-rowcount={shown.length + 1}>
        <thead>
          <tr>
            <th scope="col" className="check">
              <input
                type="checkbox"
                aria-label="Select all shown runs"
                checked={allShownSelected}
                onChange={() => {
                  const next = new Set(selected);
                  for (const r of shown) allShownSelected ? next.delete(r.id) : next.add(r.id);
                  onSelectedChange(next);
                }}
              />
            </th>
            {COLUMNS.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={c.num ? 'num' : undefined}
                aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                <button type="button" className="sort-button" onClick={() => sortBy(c.key)}>
                  {c.label}
                  <span aria-hidden="true">
                    {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 ? (
            <tr style={{ height: first * ROW }}>
              <td colSpan={COLUMNS.length + 1} aria-hidden="true" />
            </tr>
          ) : null}
          {shown.slice(first, last).map((r, i) => (
            <tr
              key={r.id}
              data-run-id={r.id}
              aria-rowindex={first + i + 2}
              className={selected.has(r.id) ? 'selected' : undefined}
              style={{ height: ROW }}
            >
              <td className="check">
                <input
                  type="checkbox"
                  aria-label={`Select run ${r.id}`}
                  checked={selected.has(r.id)}
                  onChange={() => toggle(r.id)}
                />
              </td>
              <td className="num">
                <a href={`#/runs/${r.id}`}>#{r.id}</a>
              </td>
              <td>
                <StatusBadge status={r.status} />
                {r.status === 'running' && progress?.has(r.id) ? (
                  <progress
                    className="inline-meter"
                    max={100}
                    value={Math.round(progress.get(r.id)! * 100)}
                    aria-label={`Run ${r.id} progress`}
                    title={`${Math.round(progress.get(r.id)! * 100)}%`}
                  />
                ) : null}
              </td>
              <td>{runModel(r) || '—'}</td>
              <td className="ellipsis" title={runPipelineSummary(r)}>
                {runPipelineSummary(r) || '—'}
              </td>
              <td className="num">{formatPercent(runMetric(r, 'targetRatio'), 0)}</td>
              <td className="num">
                {formatPercent(runMetric(r, 'achievedRatio'))}
                {offTargetText(r.metrics) ? (
                  <span
                    className="warn-text"
                    role="img"
                    title={offTargetText(r.metrics)!}
                    aria-label={offTargetText(r.metrics)!}
                  >
                    {' '}
                    ⚠
                  </span>
                ) : null}
              </td>
              <td className="num">{formatNumber(runMetric(r, 'ppl'))}</td>
              <td className="num">{formatPercent(runMetric(r, 'accAvg'))}</td>
              <td className="num">{formatNumber(runMetric(r, 'tokensPerSecond'))}</td>
              <td className="num">{formatBytes(runMetric(r, 'peakRssBytes'))}</td>
              <td className="num">{formatNumber(runMetric(r, 'prefillTokensPerSecond'))}</td>
              <td className="num">{formatNumber(runMetric(r, 'decodeTokensPerSecond'))}</td>
              <td className="num">{formatCount(runMetric(r, 'flopsPerToken'))}</td>
              <td className="num">{formatBytes(runMetric(r, 'weightBytes'))}</td>
              <td className="num">{formatDuration(runSeconds(r))}</td>
            </tr>
          ))}
          {last < shown.length ? (
            <tr style={{ height: (shown.length - last) * ROW }}>
              <td colSpan={COLUMNS.length + 1} aria-hidden="true" />
            </tr>
          ) : null}
        </tbody>
      </table>
      <p className="muted small table-foot" data-testid="runs-count">
        {shown.length} of {runs.length} runs{selected.size ? ` · ${selected.size} selected` : ''}
      </p>
    </div>
  );
}
