import type { JobProgress } from '@contract';
import { formatDuration } from '../format/run-format';
import { ProgressBar } from './ProgressBar';

export function JobProgressView({ progress }: { progress: JobProgress | null }) {
  if (!progress) return <p className="muted">Starting…</p>;
  const layer =
    progress.layer !== null && progress.layers !== null
      ? `layer ${progress.layer + 1}/${progress.layers}`
      : null;
  return (
    <div className="job-progress" aria-live="polite">
      <p className="job-step">
        <span data-testid="job-step">{progress.step}</span>
        {layer ? <span className="muted"> · {layer}</span> : null}
        {progress.etaSeconds !== null ? (
          <span className="muted" data-testid="job-eta">
            {' '}
            · about {formatDuration(progress.etaSeconds)} left
          </span>
        ) : null}
      </p>
      <ProgressBar fraction={progress.fraction} label="Job progress" />
      {progress.message ? <p className="muted small">{progress.message}</p> : null}
    </div>
  );
}
