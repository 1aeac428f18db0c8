// Live progress of the job that owns a run: finds the job (jobs.list) and follows its progress
// events; events for other runs are ignored, so many running jobs never slow one page down.
import type { JobFinished, JobProgress } from '@contract';
import { useCallback, useEffect, useState } from 'react';
import { useApi } from '../api/api-context';

export interface RunProgress {
  jobId: string | null;
  progress: JobProgress | null;
  finished: JobFinished | null;
  cancel(): Promise<void>;
  cancelError: unknown;
}

export function useRunProgress(runId: number): RunProgress {
  const api = useApi();
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [finished, setFinished] = useState<JobFinished | null>(null);
  const [cancelError, setCancelError] = useState<unknown>(null);

  useEffect(() => {
    let alive = true;
    const offP = api.on('job.progress', (p) => {
      if (p.runId !== runId) return;
      setJobId(p.jobId);
      setProgress(p);
    });
    const offF = api.on('job.finished', (f) => {
      if (f.runId === runId) setFinished(f);
    });
    api.call('jobs.list', {}).then(
      (jobs) => {
        const j = jobs.find((x) => x.runId === runId && (x.state === 'running' || x.state === 'queued'));
        if (alive && j) setJobId((cur) => cur ?? j.jobId);
      },
      () => {},
    );
    return () => {
      alive = false;
      offP();
      offF();
    };
  }, [api, runId]);

  const cancel = useCallback(async () => {
    if (!jobId) return;
    setCancelError(null);
    try {
      await api.call('jobs.cancel', { jobId });
    } catch (e) {
      setCancelError(e);
    }
  }, [api, jobId]);

  return { jobId, progress, finished, cancel, cancelError };
}
