// Distributed execution: every open point becomes a BullMQ job (job id from the point's hash, so
// re-adding is a no-op); `moe-bench worker` processes on any machine compute them and return the
// run; this coordinator imports each result into its store exactly once (sweeps.importRun). Events
// make it fast, a periodic reconcile makes it right: a job Redis lost (a restart without
// persistence) is added again, a completion whose event was missed is imported, a stalled job is
// BullMQ's to retry on another worker.
import { Queue, QueueEvents } from 'bullmq';
import type { PointRecord } from '../store/repos/sweeps';
import type { ExecutorControl, PointExecutor, SweepEnv } from './coordinator';
import {
  cancelKey,
  connectionOf,
  DEFAULT_PREFIX,
  keyClient,
  type PointJobData,
  type PointJobResult,
  pointJobId,
  SWEEP_QUEUE,
  sweepToken,
  within,
} from './redis-queue';

const ATTEMPTS = 3;

export class RedisExecutor implements PointExecutor {
  private readonly prefix: string;

  constructor(
    private readonly env: SweepEnv,
    private readonly sweepId: number,
    private readonly redis: { url: string; prefix?: string },
    private readonly pollMs: number,
  ) {
    this.prefix = redis.prefix ?? DEFAULT_PREFIX;
  }

  async run(points: readonly PointRecord[], control: ExecutorControl): Promise<void> {
    const { store } = this.env;
    const sweeps = store.sweeps;
    const sweep = sweeps.get(this.sweepId)!;
    const token = sweepToken(store.path, sweep.id, sweep.createdAt);
    const connection = connectionOf(this.redis.url);
    const queue = new Queue<PointJobData, PointJobResult>(SWEEP_QUEUE, { connection, prefix: this.prefix });
    const events = new QueueEvents(SWEEP_QUEUE, { connection, prefix: this.prefix });
    queue.on('error', () => {}); // reconnects are ioredis's; the reconcile loop covers the gap
    events.on('error', () => {});
    const closers: (() => Promise<void>)[] = [];
    const open = new Map(points.map((p) => [pointJobId(token, p.hash), p]));
    const add = (p: PointRecord) =>
      queue.add(
        'point',
        {
          token,
          sweepId: this.sweepId,
          hash: p.hash,
          label: p.label,
          config: p.config as Record<string, unknown>,
        },
        {
          jobId: pointJobId(token, p.hash),
          attempts: ATTEMPTS,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      );
    try {
      await within(
        Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
        15_000,
        `cannot reach Redis at ${this.redis.url} (15 s); start redis-server or check --redis`,
      );
      const client = keyClient(this.redis.url);
      closers.push(async () => {
        client.disconnect();
      });
      await client.del(cancelKey(this.prefix, token));
      for (const p of points) await add(p);

      let busy = false;
      /** settle one job from its state in Redis; true when the point is done with */
      const settleFrom = async (jobId: string): Promise<void> => {
        const p = open.get(jobId);
        if (!p) return;
        const job = await queue.getJob(jobId);
        if (!job) {
          // Redis lost it (restart without persistence): add it again
          if (!control.cancelled()) await add(p);
          return;
        }
        const state = await job.getState();
        if (state === 'completed') {
          const r = job.returnvalue as PointJobResult;
          sweeps.importRun(
            this.sweepId,
            p.hash,
            { ...r.bundle, modelId: this.env.modelIdOf(p.config) },
            r.worker,
          );
          open.delete(jobId);
          await job.remove().catch(() => {});
          control.changed();
        } else if (state === 'failed') {
          const cancelled = /^cancelled\b/.test(job.failedReason ?? '');
          sweeps.settle(
            this.sweepId,
            p.hash,
            cancelled ? 'cancelled' : 'failed',
            job.failedReason ?? 'failed',
          );
          open.delete(jobId);
          await job.remove().catch(() => {});
          control.changed();
        } else if (state === 'active' && sweeps.point(this.sweepId, p.hash)?.status === 'pending') {
          sweeps.markRunning(this.sweepId, p.hash, null);
          control.changed();
        }
      };
      const reconcile = async () => {
        if (busy) return;
        busy = true;
        try {
          for (const id of [...open.keys()]) await settleFrom(id);
        } catch {
          // Redis unreachable right now: try again on the next tick
        } finally {
          busy = false;
        }
      };
      events.on('completed', ({ jobId }) => void settleFrom(jobId).catch(() => {}));
      events.on('failed', ({ jobId }) => void settleFrom(jobId).catch(() => {}));
      events.on('active', ({ jobId }) => void settleFrom(jobId).catch(() => {}));

      let cancelling = false;
      while (open.size > 0) {
        await new Promise((r) => setTimeout(r, this.pollMs));
        if (!cancelling && control.cancelled()) {
          cancelling = true;
          // waiting jobs go now; active ones see the cancel key and stop (worker.ts)
          await client.set(cancelKey(this.prefix, token), '1', 'EX', 86_400).catch(() => {});
          for (const [id, p] of open) {
            const job = await queue.getJob(id).catch(() => undefined);
            const state = job ? await job.getState().catch(() => 'unknown') : 'missing';
            if (state !== 'active') {
              await job?.remove().catch(() => {});
              sweeps.settle(this.sweepId, p.hash, 'cancelled', 'the sweep was cancelled');
              open.delete(id);
            }
          }
          control.changed();
        }
        await reconcile();
      }
    } finally {
      await Promise.allSettled([events.close(), queue.close(), ...closers.map((c) => c())]);
    }
  }
}
