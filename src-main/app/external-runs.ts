// Runs another process is running on the same store (`moe-bench compress` while the UI is open):
// their host writes progress to the store, this polls it and relays it as the same events a run
// of this process sends, so every open view follows every run, whatever started it.
import type { EventData, EventName, JobState, RunStatus } from '../contract/index';
import type { Store } from '../store/index';

type Emit = <E extends EventName>(event: E, data: EventData<E>) => void;

/** The job id views see for a run another process owns (jobs.cancel does not reach it). */
export const externalJobId = (runId: number) => `external-run-${runId}`;

const FINAL: Record<RunStatus, JobState> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  // the owner died: to a view that is a failure with the store's reason
  interrupted: 'failed',
};

/** One poll: relay new progress, announce runs that appeared and runs that ended. */
export function externalRunsPoller(store: Store, emit: Emit, selfPid: number = process.pid): () => void {
  const last = new Map<number, string>();
  return () => {
    const live = store.runs.externalLive(selfPid);
    const seen = new Set<number>();
    for (const r of live) {
      seen.add(r.id);
      const key = JSON.stringify([r.status, r.progress]);
      if (last.get(r.id) === key) continue;
      if (!last.has(r.id) || last.get(r.id)!.startsWith(`["queued"`)) emit('runs.changed', { runId: r.id });
      last.set(r.id, key);
      const p = r.progress;
      if (p && typeof p.fraction === 'number') {
        emit('job.progress', {
          jobId: externalJobId(r.id),
          runId: r.id,
          step: typeof p.step === 'string' ? p.step : 'running',
          layer: typeof p.layer === 'number' ? p.layer : null,
          layers: typeof p.layers === 'number' ? p.layers : null,
          fraction: Math.min(1, Math.max(0, p.fraction)),
          etaSeconds: typeof p.etaSeconds === 'number' ? p.etaSeconds : null,
          ...(typeof p.message === 'string' ? { message: p.message } : {}),
        });
      }
    }
    for (const id of [...last.keys()]) {
      if (seen.has(id)) continue;
      last.delete(id);
      const run = store.runs.get(id);
      emit('runs.changed', { runId: id });
      if (run)
        emit('job.finished', {
          jobId: externalJobId(id),
          runId: id,
          state: FINAL[run.status],
          error: run.error,
        });
    }
  };
}

/** Polls every `intervalMs` until the returned stop is called; a store error stops nothing else. */
export function watchExternalRuns(store: Store, emit: Emit, intervalMs = 500): () => void {
  const poll = externalRunsPoller(store, emit);
  const timer = setInterval(() => {
    try {
      poll();
    } catch {
      // store closing or busy: the next tick tries again
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
