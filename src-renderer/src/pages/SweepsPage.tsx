// Sweeps: the list (status, inline progress) and a new sweep (spec → plan → start), or one sweep's
// page at #/sweeps/<id> with its live progress and surfaces.

import { InlineError } from '../components/InlineError';
import { Panel } from '../components/Panel';
import { ProgressBar } from '../components/ProgressBar';
import { StatusBadge } from '../components/StatusBadge';
import { SweepDetailView } from '../components/sweeps/SweepDetailView';
import { SweepStartForm } from '../components/sweeps/SweepStartForm';
import { useApiQuery } from '../hooks/use-api-query';
import { useHashLocation } from '../hooks/use-hash-location';
import { progressFraction } from '../sweeps/surface-layout';

function SweepList() {
  const list = useApiQuery('sweeps.list', {}, ['sweeps.changed']);
  return (
    <>
      <Panel
        title="Sweeps"
        actions={
          <button type="button" className="button ghost" onClick={list.reload}>
            Refresh
          </button>
        }
      >
        <InlineError error={list.error} />
        {list.data && list.data.length === 0 ? (
          <p className="muted" data-testid="sweeps-empty">
            No sweeps yet. Start one below, or with <code>moe-bench sweep run SPEC</code>.
          </p>
        ) : null}
        {list.data?.length ? (
          <div className="table-scroll">
            <table className="table" aria-label="Sweeps" data-testid="sweeps-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>name</th>
                  <th>status</th>
                  <th>mode</th>
                  <th>progress</th>
                  <th>points</th>
                  <th>created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((s) => (
                  <tr key={s.id} data-sweep={s.id}>
                    <td>
                      <a href={`#/sweeps/${s.id}`}>#{s.id}</a>
                    </td>
                    <td>
                      <a href={`#/sweeps/${s.id}`}>{s.name}</a>
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td>{s.mode ?? '—'}</td>
                    <td>
                      <ProgressBar fraction={progressFraction(s.progress)} label={`Sweep ${s.id} progress`} />
                    </td>
                    <td>
                      {s.progress.succeeded}/{s.progress.total}
                      {s.progress.failed ? `, ${s.progress.failed} failed` : ''}
                      {s.progress.refused ? `, ${s.progress.refused} refused` : ''}
                    </td>
                    <td>{s.createdAt.replace('T', ' ').slice(0, 19)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Panel>
      <Panel title="New sweep">
        <SweepStartForm />
      </Panel>
    </>
  );
}

export function SweepsPage() {
  const { segments } = useHashLocation();
  const id = Number(segments[0]);
  return Number.isInteger(id) && id > 0 ? <SweepDetailView key={id} sweepId={id} /> : <SweepList />;
}
