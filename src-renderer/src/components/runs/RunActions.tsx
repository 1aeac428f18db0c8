// What a finished (or cancelled, failed, interrupted) compress run offers next: run the same
// pipeline again, or open its config in the pipeline editor to change it first.
import type { RunDetail } from '@contract';
import { useState } from 'react';
import { useApi } from '../../api/api-context';
import { navigate } from '../../hooks/use-hash-location';
import { InlineError } from '../InlineError';

/** The pipeline config a compress run ran (the job stores it under `config`). */
export function runPipelineConfig(d: RunDetail): Record<string, unknown> | null {
  const c = (d.config as { config?: unknown } | null)?.config;
  return c !== null && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>) : null;
}

export function RunActions({ run }: { run: RunDetail }) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const config = run.kind === 'compress' ? runPipelineConfig(run) : null;
  if (!config || run.status === 'running' || run.status === 'queued') return null;
  const rerun = async () => {
    setBusy(true);
    setError(null);
    try {
      const job = await api.call('pipelines.run', { config });
      if (job.runId !== null) navigate(`/runs/${job.runId}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="button ghost" disabled={busy} onClick={() => void rerun()}>
        Re-run
      </button>
      <button type="button" className="button ghost" onClick={() => navigate(`/pipelines?fromRun=${run.id}`)}>
        Open in editor
      </button>
      <InlineError error={error} />
    </>
  );
}
