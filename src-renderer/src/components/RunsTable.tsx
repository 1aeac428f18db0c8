import type { RunSummary } from '@contract';
import { formatDuration, formatHeadline, formatTimestamp, runSeconds } from '../format/run-format';
import { StatusBadge } from './StatusBadge';

export function RunsTable({ runs }: { runs: readonly RunSummary[] }) {
  if (runs.length === 0)
    return (
      <p className="empty" data-testid="runs-empty">
        No runs yet.
      </p>
    );
  return (
    <div className="table-scroll">
      <table className="table" aria-label="Runs">
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Model</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
            <th scope="col">Headline</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-run-id={r.id}>
              <td className="num">{r.id}</td>
              <td className="mono">{r.kind}</td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>{r.modelName ?? '—'}</td>
              <td>{formatTimestamp(r.createdAt)}</td>
              <td className="num">{formatDuration(runSeconds(r))}</td>
              <td>
                {formatHeadline(r.headline).join(' · ') ||
                  (r.error ? <span className="muted">{r.error}</span> : '—')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
