import { useJobTracker } from '../hooks/use-job-tracker';
import { GemmParamsForm } from './GemmParamsForm';
import { GemmResultTable } from './GemmResultTable';
import { InlineError } from './InlineError';
import { JobOutcome } from './JobOutcome';
import { JobProgressView } from './JobProgressView';
import { Panel } from './Panel';

/** Measures matrix-multiply throughput on the active backend, as a stored run. */
export function DiagnosticsPanel() {
  const tracker = useJobTracker('diagnostics.gemm');
  const job = tracker.job;
  const running = job !== null && job.finished === null;
  return (
    <Panel
      title="Diagnostics"
      actions={
        running ? (
          <button type="button" className="button danger" onClick={() => void tracker.cancel()}>
            Cancel
          </button>
        ) : null
      }
    >
      <p className="muted small">GEMM throughput of the active compute backend; each run is saved.</p>
      <GemmParamsForm disabled={running || tracker.starting} onStart={(p) => void tracker.start(p)} />
      <InlineError error={tracker.error} />
      {running ? <JobProgressView progress={job.progress} /> : null}
      {job?.finished ? (
        <JobOutcome finished={job.finished}>
          <GemmResultTable result={job.finished.result} />
        </JobOutcome>
      ) : null}
    </Panel>
  );
}
