// Runs: the list (sort, filter, multi-select → compare / delete), or one run's page at #/runs/<id>.
import { useId, useState } from 'react';
import { useApi } from '../api/api-context';
import { InlineError } from '../components/InlineError';
import { Panel } from '../components/Panel';
import { RunDetailView } from '../components/runs/RunDetailView';
import { RunList } from '../components/runs/RunList';
import { useApiQuery } from '../hooks/use-api-query';
import { navigate, useHashLocation } from '../hooks/use-hash-location';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];

function RunsListView() {
  const api = useApi();
  const runs = useApiQuery('runs.table', {}, ['runs.changed']);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const filterId = useId();
  const statusId = useId();

  const removeSelected = async () => {
    setError(null);
    try {
      for (const id of selected) await api.call('runs.delete', { id });
      setSelected(new Set());
    } catch (e) {
      setError(e);
    }
    runs.reload();
  };

  return (
    <Panel
      title="Runs"
      actions={
        <>
          <button
            type="button"
            className="button"
            disabled={selected.size < 2}
            onClick={() => navigate(`/compare?runs=${[...selected].sort((a, b) => a - b).join(',')}`)}
          >
            Compare selected
          </button>
          <button
            type="button"
            className="button ghost"
            disabled={selected.size === 0}
            onClick={removeSelected}
          >
            Delete selected
          </button>
          <button type="button" className="button ghost" onClick={runs.reload}>
            Refresh
          </button>
        </>
      }
    >
      <div className="toolbar">
        <label htmlFor={filterId}>Filter</label>
        <input
          id={filterId}
          className="input"
          type="search"
          placeholder="model, pipeline, method, #id…"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <label htmlFor={statusId}>Status</label>
        <select id={statusId} className="input" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <InlineError error={runs.error ?? error} />
      {runs.data ? (
        <RunList
          runs={runs.data}
          selected={selected}
          onSelectedChange={setSelected}
          filterText={text}
          status={status}
        />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </Panel>
  );
}

export function RunsPage() {
  const { segments } = useHashLocation();
  const id = Number(segments[0]);
  return Number.isInteger(id) && id > 0 ? <RunDetailView key={id} runId={id} /> : <RunsListView />;
}
