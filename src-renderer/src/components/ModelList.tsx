import type { ModelRecord } from '@contract';

export function ModelList({ models }: { models: readonly ModelRecord[] }) {
  if (models.length === 0) {
    return (
      <p className="empty" data-testid="models-empty">
        No models yet. Add a model folder below.
      </p>
    );
  }
  return (
    <ul className="model-list" aria-label="Models">
      {models.map((m) => (
        <li key={m.id} className="model-item">
          <span className="model-name">{m.name}</span>
          {m.architecture ? <span className="tag">{m.architecture}</span> : null}
          {m.builtin ? <span className="tag">built-in</span> : null}
          <span className="mono muted model-path" title={m.path}>
            {m.path}
          </span>
        </li>
      ))}
    </ul>
  );
}
