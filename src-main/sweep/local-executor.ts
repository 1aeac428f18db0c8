// The local worker pool: each point is a `compress` job of this app's engine host (one worker thread
// per job), at most `size` at once. The job stores its run itself; the point is linked to it.
import os from 'node:os';
import path from 'node:path';
import type { PointRecord } from '../store/repos/sweeps';
import type { ExecutorControl, PointExecutor, SweepEnv } from './coordinator';

/**
 * Workers the machine can hold: the request, capped by free memory over one run's pre-flight
 * estimate (at least one: a single run is refused by its own pre-flight if it cannot fit).
 */
export function poolSize(requested: number, perRunBytes: number, freeBytes: number = os.freemem()): number {
  const fit = perRunBytes > 0 ? Math.floor(freeBytes / perRunBytes) : requested;
  return Math.max(1, Math.min(requested, fit));
}

export class LocalExecutor implements PointExecutor {
  constructor(
    private readonly env: SweepEnv,
    private readonly sweepId: number,
    private readonly size: number,
    private readonly pollMs: number,
  ) {}

  run(points: readonly PointRecord[], control: ExecutorControl): Promise<void> {
    const { host, store } = this.env;
    const sweeps = store.sweeps;
    if (host.maxConcurrency < this.size) host.setConcurrency(this.size);
    const inflight = new Map<string, string>();
    let next = 0;
    let stopping = false;
    return new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (!stopping && control.cancelled()) {
          stopping = true;
          for (const jobId of inflight.values()) host.cancel(jobId);
          for (const p of points.slice(next))
            sweeps.settle(this.sweepId, p.hash, 'cancelled', 'the sweep was cancelled');
          next = points.length;
          control.changed();
          pump();
        }
      }, this.pollMs);
      const pump = () => {
        while (!stopping && inflight.size < this.size && next < points.length) launch(points[next++]!);
        if (inflight.size === 0 && (stopping || next >= points.length)) {
          clearInterval(timer);
          resolve();
        }
      };
      const launch = (p: PointRecord) => {
        const outDir = path.join(this.env.home, 'sweeps', String(this.sweepId), p.hash.slice(0, 16));
        let jobId: string;
        try {
          jobId = host.start('compress', { config: p.config as Record<string, unknown>, outDir }).jobId;
        } catch (e) {
          sweeps.settle(this.sweepId, p.hash, 'failed', (e as Error).message);
          control.changed();
          return;
        }
        inflight.set(p.hash, jobId);
        sweeps.markRunning(this.sweepId, p.hash, `local job ${jobId}`);
        control.changed();
        host.wait(jobId).then(
          (fin) => {
            inflight.delete(p.hash);
            const seconds = fin.runId !== null ? (store.runs.get(fin.runId)?.seconds ?? null) : null;
            if (fin.state === 'succeeded' && fin.runId !== null)
              sweeps.link(this.sweepId, p.hash, fin.runId, { seconds });
            else
              sweeps.settle(
                this.sweepId,
                p.hash,
                fin.state === 'cancelled' ? 'cancelled' : 'failed',
                fin.error ?? fin.state,
              );
            control.changed();
            pump();
          },
          (e: unknown) => {
            inflight.delete(p.hash);
            sweeps.settle(this.sweepId, p.hash, 'failed', (e as Error).message);
            control.changed();
            pump();
          },
        );
      };
      pump();
    });
  }
}
