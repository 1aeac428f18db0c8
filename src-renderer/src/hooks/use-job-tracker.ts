// Follows one job of a given kind: starts it, records its progress and end from events, cancels
// it, and re-attaches to a job of that kind already running when the page (re)loads. Events are
// recorded for every job from mount on, so a fast job cannot finish before its id is known.
import type { JobFinished, JobProgress } from '@contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../api/api-context';

export interface TrackedJob {
  jobId: string;
  progress: JobProgress | null;
  finished: JobFinished | null;
}

export interface JobTracker {
  job: TrackedJob | null;
  starting: boolean;
  error: unknown;
  start(params: Record<string, unknown>): Promise<void>;
  cancel(): Promise<void>;
}

export function useJobTracker(kind: string): JobTracker {
  const api = useApi();
  const seen = useRef(new Map<string, { progress: JobProgress | null; finished: JobFinished | null }>());
  const [jobId, setJobId] = useState<string | null>(null);
  const [, bump] = useState(0);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const entry = (id: string) => {
      const e = seen.current.get(id) ?? { progress: null, finished: null };
      seen.current.set(id, e);
      return e;
    };
    const offProgress = api.on('job.progress', (p) => {
      entry(p.jobId).progress = p;
      bump((n) => n + 1);
    });
    const offFinished = api.on('job.finished', (f) => {
      entry(f.jobId).finished = f;
      bump((n) => n + 1);
    });
    api.call('jobs.list', {}).then(
      (jobs) => {
        const running = jobs.find((j) => j.kind === kind && (j.state === 'running' || j.state === 'queued'));
        if (running) setJobId((cur) => cur ?? running.jobId);
      },
      () => {},
    );
    return () => {
      offProgress();
      offFinished();
    };
  }, [api, kind]);

  const start = useCallback(
    async (params: Record<string, unknown>) => {
      setStarting(true);
      setError(null);
      try {
        const info = await api.call('jobs.start', { kind, params });
        const e = seen.current.get(info.jobId);
        if (info.state !== 'queued' && info.state !== 'running' && !e?.finished) {
          // Ended before it could report (e.g. rejected params): keep what jobs.start said.
          seen.current.set(info.jobId, {
            progress: e?.progress ?? null,
            finished: { jobId: info.jobId, runId: info.runId, state: info.state, error: info.error },
          });
        }
        setJobId(info.jobId);
      } catch (err) {
        setError(err);
      } finally {
        setStarting(false);
      }
    },
    [api, kind],
  );

  const cancel = useCallback(async () => {
    if (!jobId) return;
    try {
      await api.call('jobs.cancel', { jobId });
    } catch (err) {
      setError(err);
    }
  }, [api, jobId]);

  const state = jobId ? seen.current.get(jobId) : undefined;
  const job = jobId ? { jobId, progress: state?.progress ?? null, finished: state?.finished ?? null } : null;
  return { job, starting, error, start, cancel };
}
