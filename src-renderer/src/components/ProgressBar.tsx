export function ProgressBar({ fraction, label }: { fraction: number; label: string }) {
  const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className="progress-row">
      <progress className="progress" value={pct} max={100} aria-label={label} />
      <span className="progress-pct" data-testid="progress-percent">
        {pct}%
      </span>
    </div>
  );
}
