// Models: built-in and user-added Hugging Face folders; pick one to see what the engine reads from
// it (architecture, MoE layout, parameters, dtype, size) and a per-layer table.
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { AddModelForm } from '../components/AddModelForm';
import { AnalysesPanel } from '../components/analyses/AnalysesPanel';
import { EvaluateModel } from '../components/EvaluateModel';
import { InlineError } from '../components/InlineError';
import { ModelInspectView } from '../components/ModelInspectView';
import { Panel } from '../components/Panel';
import { useApiQuery } from '../hooks/use-api-query';

export function ModelsPage() {
  const api = useApi();
  const models = useApiQuery('models.list', {}, ['models.changed']);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const list = models.data ?? [];
  const current = list.find((m) => m.id === selected) ?? null;

  const remove = async (id: number) => {
    setError(null);
    try {
      await api.call('models.remove', { id });
      if (selected === id) setSelected(null);
      models.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="split">
      <Panel title="Models">
        {list.length === 0 && !models.loading ? (
          <p className="empty" data-testid="models-empty">
            No models yet. Add a model folder below.
          </p>
        ) : (
          <ul className="select-list" aria-label="Models">
            {list.map((m) => (
              <li key={m.id} className={m.id === selected ? 'selected' : undefined}>
                <button
                  type="button"
                  className="select-item"
                  aria-pressed={m.id === selected}
                  onClick={() => setSelected(m.id)}
                >
                  <span className="model-name">{m.name}</span>
                  {m.architecture ? <span className="tag">{m.architecture}</span> : null}
                  {m.builtin ? <span className="tag">built-in</span> : null}
                  <span className="mono muted model-path" title={m.path}>
                    {m.path}
                  </span>
                </button>
                {!m.builtin ? (
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Remove model ${m.name}`}
                    title="Remove from the store (files are kept)"
                    onClick={() => remove(m.id)}
                  >
                    ×
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
        <InlineError error={models.error ?? error} />
        <AddModelForm
          onAdded={(m) => {
            models.reload();
            if (m) setSelected(m.id);
          }}
        />
        {api.transport === 'ipc' ? (
          <p className="muted small">Or pick a folder: File → Open Model Folder… (Ctrl/Cmd+O).</p>
        ) : null}
      </Panel>
      {current ? (
        <div className="stack">
          <ModelInspectView key={current.id} model={current} />
          <EvaluateModel key={`eval-${current.id}`} model={current} />
          <AnalysesPanel key={`analyses-${current.id}`} model={current.path} modelId={current.id} />
        </div>
      ) : (
        <Panel title="Inspect">
          <p className="muted">Select a model to inspect its architecture and layers.</p>
        </Panel>
      )}
    </div>
  );
}
