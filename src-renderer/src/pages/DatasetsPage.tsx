// Data sets: built-in and user-added files, a preview of the first rows and the size in tokens
// under a chosen model's tokenizer.
import { type FormEvent, useId, useState } from 'react';
import { useApi } from '../api/api-context';
import { InlineError } from '../components/InlineError';
import { KeyValues } from '../components/KeyValues';
import { Panel } from '../components/Panel';
import { useApiQuery } from '../hooks/use-api-query';

function AddDatasetForm({ onAdded }: { onAdded: (id: number) => void }) {
  const api = useApi();
  const id = useId();
  const errorId = useId();
  const [path, setPath] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!path.trim()) return setError(new Error('Enter the path of a .txt, .jsonl or .parquet file.'));
    try {
      const d = await api.call('datasets.add', { path: path.trim() });
      setPath('');
      onAdded(d.id);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <label htmlFor={id}>Data file path</label>
      <div className="field-row">
        <input
          id={id}
          className="input mono"
          value={path}
          placeholder="/data/calib.jsonl"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="submit" className="button">
          Add data set
        </button>
      </div>
      <InlineError error={error} id={errorId} />
    </form>
  );
}

function DatasetPreviewView({ datasetId }: { datasetId: number }) {
  const models = useApiQuery('models.list', {}, ['models.changed']);
  const [modelId, setModelId] = useState<number | undefined>(undefined);
  const selectId = useId();
  const preview = useApiQuery(
    'datasets.preview',
    modelId === undefined ? { id: datasetId } : { id: datasetId, modelId },
  );
  const p = preview.data;
  return (
    <Panel title="Preview">
      <div className="field-row narrow">
        <label htmlFor={selectId}>Count tokens with</label>
        <select
          id={selectId}
          className="input"
          value={modelId ?? ''}
          onChange={(e) => setModelId(e.target.value ? Number(e.target.value) : undefined)}
        >
          <option value="">(no model: rows and characters only)</option>
          {(models.data ?? []).map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
      </div>
      {preview.loading ? <p className="muted">Reading…</p> : null}
      <InlineError error={preview.error} />
      {p ? (
        <>
          <KeyValues
            label="Data set size"
            items={[
              ['Rows', p.rows.toLocaleString('en-US')],
              ['Characters', p.chars.toLocaleString('en-US')],
              [
                'Tokens',
                p.tokens === null ? (
                  '—'
                ) : (
                  <span key="tokens" data-testid="dataset-tokens">
                    {p.tokens.toLocaleString('en-US')}
                  </span>
                ),
              ],
            ]}
          />
          <p className="mono muted small">{p.path}</p>
          <ol className="preview-lines" aria-label="First rows">
            {p.lines.map((l, i) => (
              // rows have no identity beyond their position
              // biome-ignore lint/suspicious/noArrayIndexKey: static preview
              <li key={i} className="mono">
                {l}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </Panel>
  );
}

export function DatasetsPage() {
  const datasets = useApiQuery('datasets.list', {});
  const [selected, setSelected] = useState<number | null>(null);
  const list = datasets.data ?? [];
  return (
    <div className="split">
      <Panel title="Data sets">
        {list.length === 0 && !datasets.loading ? (
          <p className="empty">No data sets yet. Add a file below.</p>
        ) : null}
        <ul className="select-list" aria-label="Data sets">
          {list.map((d) => (
            <li key={d.id} className={d.id === selected ? 'selected' : undefined}>
              <button
                type="button"
                className="select-item"
                aria-pressed={d.id === selected}
                onClick={() => setSelected(d.id)}
              >
                <span className="model-name">{d.name}</span>
                <span className="tag">{d.format}</span>
                {d.builtin ? <span className="tag">built-in</span> : null}
                <span className="mono muted model-path" title={d.path}>
                  {d.path}
                </span>
              </button>
            </li>
          ))}
        </ul>
        <InlineError error={datasets.error} />
        <AddDatasetForm
          onAdded={(id) => {
            datasets.reload();
            setSelected(id);
          }}
        />
      </Panel>
      {selected !== null ? (
        <DatasetPreviewView key={selected} datasetId={selected} />
      ) : (
        <Panel title="Preview">
          <p className="muted">Select a data set to preview it.</p>
        </Panel>
      )}
    </div>
  );
}
