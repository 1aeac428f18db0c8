import type { ModelRecord } from '@contract';
import { type FormEvent, useId, useState } from 'react';
import { useApi } from '../api/api-context';
import { windowFolderPicker } from '../api/folder-picker';
import { InlineError } from './InlineError';

/** Registers a local model folder (Hugging Face layout: config.json + *.safetensors). */
export function AddModelForm({ onAdded }: { onAdded: (model?: ModelRecord) => void }) {
  const api = useApi();
  const pathId = useId();
  const errorId = useId();
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // the desktop app: the system's folder dialog, whose pick the main process allows
  const pickFolder = windowFolderPicker();

  const add = async (folder: string) => {
    setBusy(true);
    setError(null);
    try {
      const model = await api.call('models.add', { path: folder });
      setPath('');
      onAdded(model);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = path.trim();
    if (!trimmed) {
      setError(new Error('Enter the path of a model folder.'));
      return;
    }
    await add(trimmed);
  };
  const choose = async () => {
    setError(null);
    try {
      const picked = await pickFolder?.('model-folder');
      if (picked) await add(picked);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <label htmlFor={pathId}>Model folder path</label>
      <div className="field-row">
        <input
          id={pathId}
          className="input mono"
          type="text"
          value={path}
          placeholder="/models/OLMoE-1B-7B-0924"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Adding…' : 'Add model'}
        </button>
        {pickFolder ? (
          <button type="button" className="button ghost" disabled={busy} onClick={() => void choose()}>
            Choose folder…
          </button>
        ) : null}
      </div>
      <InlineError error={error} id={errorId} />
    </form>
  );
}
