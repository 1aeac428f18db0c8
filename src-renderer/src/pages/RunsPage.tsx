// Runs: the list (sort, filter, multi-select → compare / delete), or one run's page at #/runs/<id>.
import { useId, useState } from 'react';
import { useApi } from '../api/api-context';
import { InlineError } from '../components/InlineError';
import { Panel } from '../components/Panel';
import { RunDetailView } from '../components/runs/RunDetailView';
import { RunList } from '../components/runs/RunList';
import { useApiQuery } from '../hooks/use-api-query';
import { navigate, useHashLocation } from '../hooks/use-hash-location';
import { useLiveProgress } from '../hooks/use-live-progress';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];

function RunsListView() {
  const api = useApi();
  const runs = useApiQuery('runs.table', {}, ['runs.changed']);
  const progress = useLiveProgress();
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const filterId = useId();
  const statusId = useId();

  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const removeSelected = async (artifacts: 'keep' | 'remove') => {
    setError(null);
    const notes: string[] = [];
    try {
      for (const id of selected) {
        const r = await api.call('runs.delete', { id, artifacts });
        notes.push(
          `#${id} deleted${r.removed?.length ? `, removed ${r.removed.join(', ')}` : ''}${r.kept?.length ? `, kept ${r.kept.join(', ')}` : ''}`,
        );
      }
      setSelected(new Set());
      setConfirming(false);
    } catch (e) {
      setError(e);
    }
    setOutcome(notes.length ? notes.join('; ') : null);
    runs.reload();
  };
  const selectedLabels = [...selected]
    .sort((a, b) => a - b)
    .map((id) => {
      const r = runs.data?.find((x) => x.id === id);
      const name = r ? (r.pipelineName ?? r.configName ?? r.kind) : '';
      return `#${id}${name ? ` ${name}` : ''}`;
    });

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
            onClick={() => {
              setOutcome(null);
              setConfirming(true);
            }}
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
      {confirming && selected.size > 0 ? (
        <div
          className="callout warn"
          role="alertdialog"
          aria-label="Confirm deletion"
          data-testid="delete-confirm"
        >
          <p>
            Delete {selected.size === 1 ? 'run' : `${selected.size} runs`} {selectedLabels.join(', ')} and
            everything they recorded? Their exported checkpoints under the app home can go too, or stay on
            disk.
          </p>
          <div className="toolbar">
            <button type="button" className="button" onClick={() => void removeSelected('keep')}>
              Delete, keep exported files
            </button>
            <button type="button" className="button ghost" onClick={() => void removeSelected('remove')}>
              Delete with exported files
            </button>
            <button type="button" className="button ghost" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {outcome ? (
        <p className="muted small" data-testid="delete-outcome">
          {outcome}
        </p>
      ) : null}
      <InlineError error={runs.error ?? error} />
      {runs.data ? (
        <RunList
          runs={runs.data}
          selected={selected}
          onSelectedChange={setSelected}
          filterText={text}
          status={status}
          progress={progress}
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
