// Shared by the headless scripts (demo, experiments): run a job through the app and wait for it, and
// read a run's metrics keyed `name` or `name@dataset` (first value wins, as the store's headline).
import type { WorkbenchApp } from '../src-main/app/create-app';
import type { JobFinished } from '../src-main/contract/index';

export async function runJob(
  app: WorkbenchApp,
  kind: string,
  params: Record<string, unknown>,
): Promise<JobFinished> {
  const info = await app.handlers['jobs.start']({ kind, params });
  const done = await app.waitForJob(info.jobId);
  if (done.state !== 'succeeded') throw new Error(`${kind} run ${done.runId} ${done.state}: ${done.error}`);
  return done;
}

export async function runMetrics(app: WorkbenchApp, runId: number): Promise<Map<string, number>> {
  const d = await app.handlers['runs.get']({ id: runId });
  const m = new Map<string, number>();
  for (const r of d.metrics) {
    const key = r.dataset ? `${r.name}@${r.dataset}` : r.name;
    if (!m.has(key)) m.set(key, r.value);
  }
  return m;
}
