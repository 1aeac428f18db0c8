import type { JobFinished } from '@contract';
import type { ReactNode } from 'react';
import { StatusBadge } from './StatusBadge';

function numericFields(result: unknown): [string, number][] {
  if (typeof result !== 'object' || result === null) return [];
  return Object.entries(result).filter((e): e is [string, number] => typeof e[1] === 'number');
}

export function JobOutcome({ finished, children }: { finished: JobFinished; children?: ReactNode }) {
  const fields = numericFields(finished.result).slice(0, 6);
  return (
    <div className="job-outcome" role="status" data-testid="job-outcome">
      <p>
        <StatusBadge status={finished.state} />
        {finished.runId !== null ? <span> run #{finished.runId}</span> : null}
      </p>
      {finished.error ? <p className="inline-error">{finished.error}</p> : null}
      {fields.length ? (
        <dl className="kv">
          {fields.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd className="num">{Number(v.toPrecision(4))}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {children}
    </div>
  );
}
