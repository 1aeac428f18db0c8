// Export a run's checkpoint in each format the export job offers for it (factored workbench
// format, dense Hugging Face, GPTQ after a quantization step). The export is a stored `export`
// run; in browser mode (the remote-GPU case) its files download from the server, in the desktop
// app they stay in the folder given or chosen in the system's folder dialog.
import type { ArtifactRecord, RunDetail } from '@contract';
import { useEffect, useId, useState } from 'react';
import { useApi } from '../../api/api-context';
import { windowFolderPicker } from '../../api/folder-picker';
import { formatBytes } from '../../format/numbers';
import { useApiQuery } from '../../hooks/use-api-query';
import { useJobTracker } from '../../hooks/use-job-tracker';
import { InlineError } from '../InlineError';
import { Panel } from '../Panel';
import { ProgressBar } from '../ProgressBar';

const pageToken = () => new URLSearchParams(window.location.search).get('token');

/** `name` inside `folder`, with the folder's own separator (a picked Windows path has backslashes). */
export function insideFolder(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return `${folder.replace(/[\\/]+$/, '')}${sep}${name}`;
}

export function RunExport({ run }: { run: RunDetail }) {
  const api = useApi();
  const options = useApiQuery('runs.exportOptions', { id: run.id });
  const tracker = useJobTracker('export');
  const [format, setFormat] = useState('');
  const [outDir, setOutDir] = useState('');
  const [files, setFiles] = useState<{ runId: number; artifacts: ArtifactRecord[] } | null>(null);
  const [pickError, setPickError] = useState<unknown>(null);
  const pickFolder = windowFolderPicker();
  const choose = async () => {
    setPickError(null);
    try {
      // the export goes into the chosen folder (the main process allowed it), not next to it
      const picked = await pickFolder?.('export-folder');
      if (picked) setOutDir(insideFolder(picked, `run-${run.id}-export`));
    } catch (e) {
      setPickError(e);
    }
  };
  const ids = { format: useId(), out: useId() };
  const o = options.data;
  useEffect(() => {
    if (!o) return;
    setFormat((f) => f || (o.formats[0] ?? ''));
    setOutDir((d) => d || o.defaultOutDir);
  }, [o]);
  const finished = tracker.job?.finished ?? null;
  useEffect(() => {
    if (finished?.state !== 'succeeded' || finished.runId === null) return;
    const runId = finished.runId;
    api.call('runs.get', { id: runId }).then(
      (d) => setFiles({ runId, artifacts: d.artifacts }),
      () => {},
    );
  }, [api, finished]);
  if (!o?.checkpoint || run.status !== 'succeeded') return null;
  const running = tracker.job !== null && finished === null;
  const browser = api.transport !== 'ipc';
  const token = pageToken();
  return (
    <Panel title="Export">
      <div className="field-grid">
        <label htmlFor={ids.format}>Format</label>
        <select id={ids.format} className="input" value={format} onChange={(e) => setFormat(e.target.value)}>
          {o.formats.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
        <label htmlFor={ids.out}>Output folder</label>
        <input
          id={ids.out}
          className="input mono"
          value={outDir}
          onChange={(e) => setOutDir(e.target.value)}
          spellCheck={false}
        />
        {pickFolder ? (
          <>
            <span />
            <button type="button" className="button ghost" onClick={() => void choose()}>
              Choose folder…
            </button>
          </>
        ) : null}
      </div>
      <button
        type="button"
        className="button"
        disabled={running || tracker.starting || !format || !outDir.trim()}
        onClick={() => {
          setFiles(null);
          void tracker.start({ model: o.checkpoint, outDir: `${outDir.trim()}-${format}`, format });
        }}
      >
        Export checkpoint
      </button>
      {running ? (
        <ProgressBar fraction={tracker.job?.progress?.fraction ?? 0} label="Export progress" />
      ) : null}
      {finished && finished.state !== 'succeeded' ? (
        <p className="inline-error" role="alert">
          Export {finished.state}
          {finished.error ? `: ${finished.error}` : ''}
        </p>
      ) : null}
      {files ? (
        <ul className="plain-list" aria-label="Exported files" data-testid="export-files">
          {files.artifacts.map((a, i) => (
            <li key={a.id} className="mono small">
              {browser && token ? (
                <a href={`/files/${files.runId}/${i}?token=${encodeURIComponent(token)}`} download>
                  {a.path.split(/[\\/]/).pop()}
                </a>
              ) : (
                a.path
              )}{' '}
              ({formatBytes(a.bytes)})
            </li>
          ))}
        </ul>
      ) : null}
      <InlineError error={options.error ?? tracker.error ?? pickError} />
    </Panel>
  );
}
