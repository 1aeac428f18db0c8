// The comparison says when runs were evaluated differently from the baseline (their perplexity
// deltas are withheld), and evaluates the matched baseline in one click: the runs' source model
// under their protocol, added to the comparison as the new baseline once it has finished.
import type { RunDetail } from '@contract';
import { protocolText } from '@contract/protocol';
import { useEffect, useState } from 'react';
import { useApi } from '../../api/api-context';
import { protocolMismatches, runPplProtocol } from '../../compare/protocol-match';
import { InlineError } from '../InlineError';
import { ProgressBar } from '../ProgressBar';

export function ProtocolWarning({
  runs,
  baselineId,
  onMatched,
}: {
  runs: RunDetail[];
  baselineId: number | null;
  /** the matched baseline run finished: add it and make it the baseline */
  onMatched: (runId: number) => void;
}) {
  const api = useApi();
  const [job, setJob] = useState<{ jobId: string; key: string; fraction: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const mismatches = protocolMismatches(runs, baselineId);
  const base = runs.find((r) => r.id === baselineId);

  const jobId = job?.jobId ?? null;
  useEffect(() => {
    if (jobId === null) return;
    const offP = api.on('job.progress', (p) => {
      if (p.jobId === jobId) setJob((j) => (j ? { ...j, fraction: p.fraction } : j));
    });
    const offF = api.on('job.finished', (f) => {
      if (f.jobId !== jobId) return;
      setJob(null);
      if (f.state === 'succeeded' && f.runId !== null) onMatched(f.runId);
      else setError(new Error(`The matched baseline run ${f.state}${f.error ? `: ${f.error}` : ''}.`));
    });
    return () => {
      offP();
      offF();
    };
  }, [api, jobId, onMatched]);

  if (!base || mismatches.length === 0) return null;
  const start = async (key: string, params: Record<string, unknown>) => {
    setError(null);
    try {
      const info = await api.call('jobs.start', { kind: 'eval.ppl', params });
      setJob({ jobId: info.jobId, key, fraction: 0 });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="callout warn" role="alert" data-testid="protocol-warning">
      <p>
        <strong>Different evaluation protocols.</strong> The baseline #{base.id} was evaluated on{' '}
        <span className="mono">{protocolText(runPplProtocol(base))}</span>. Perplexity and speed deltas of the
        runs below are not shown: their numbers measure something else.
      </p>
      <ul>
        {mismatches.map((m) => (
          <li key={m.text}>
            {m.runIds.map((id) => `#${id}`).join(', ')}: <span className="mono">{m.text}</span>{' '}
            {m.matchedBaseline ? (
              job?.key === m.text ? (
                <span className="inline-progress" data-testid="matched-baseline-progress">
                  Evaluating {m.matchedBaseline.model}…{' '}
                  <ProgressBar fraction={job.fraction} label="Matched baseline progress" />
                </span>
              ) : (
                <button
                  type="button"
                  className="button"
                  disabled={job !== null}
                  onClick={() => void start(m.text, m.matchedBaseline!)}
                >
                  Evaluate the baseline under this protocol
                </button>
              )
            ) : (
              <span className="muted">(the runs name no model to evaluate)</span>
            )}
          </li>
        ))}
      </ul>
      <InlineError error={error} />
    </div>
  );
}
