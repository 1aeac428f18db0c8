// `moe-bench worker --redis URL`: takes sweep points from the queue and computes each as an ordinary
// `compress` job of this machine's app (its own store, its own model and data roots), then returns
// the stored run — config, metrics, per-layer records — as the job's result for the coordinator to
// import. A point whose model or data this machine lacks fails at once with a clear error (no
// retry); a worker killed mid-run leaves a stalled job that BullMQ hands to another worker.
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import type { WorkbenchApp } from '../app/create-app';
import {
  cancelKey,
  connectionOf,
  DEFAULT_PREFIX,
  keyClient,
  type PointJobData,
  type PointJobResult,
  SWEEP_QUEUE,
  within,
} from './redis-queue';

export interface WorkerOptions {
  url: string;
  prefix?: string;
  concurrency?: number;
  /** how long a job's lock lives without renewal before another worker may take it (ms) */
  lockMs?: number;
  log?(line: string): void;
}

export interface RunningWorker {
  id: string;
  processed(): number;
  close(): Promise<void>;
}

export async function startWorker(app: WorkbenchApp, o: WorkerOptions): Promise<RunningWorker> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const id = `${os.hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  const connection = connectionOf(o.url);
  let processed = 0;
  const keys = keyClient(o.url);
  const lockMs = o.lockMs ?? 30_000;
  const worker = new Worker<PointJobData, PointJobResult>(
    SWEEP_QUEUE,
    async (job) => {
      const { config, hash, label, token } = job.data;
      log(`${label}: started (attempt ${job.attemptsMade + 1})`);
      const outDir = path.join(app.home, 'sweep-work', hash.slice(0, 16));
      let jobId: string;
      try {
        jobId = (await app.handlers['jobs.start']({ kind: 'compress', params: { config, outDir } })).jobId;
      } catch (e) {
        // the model or data set is not on this machine, or the config does not validate here
        throw new UnrecoverableError(`worker ${id}: ${(e as Error).message}`);
      }
      const watch = setInterval(() => {
        keys
          .get(cancelKey(prefix, token))
          .then((v: string | null) => {
            if (v) void app.handlers['jobs.cancel']({ jobId }).catch(() => {});
          })
          .catch(() => {});
      }, 500);
      try {
        const fin = await app.waitForJob(jobId);
        if (fin.state === 'cancelled') throw new UnrecoverableError('cancelled: the sweep was cancelled');
        if (fin.state !== 'succeeded' || fin.runId === null)
          throw new Error(`worker ${id}: ${fin.error ?? fin.state}`);
        const d = await app.handlers['runs.get']({ id: fin.runId });
        processed++;
        log(`${label}: run ${d.id} in ${d.seconds?.toFixed(1) ?? '?'} s`);
        return {
          worker: id,
          bundle: {
            kind: d.kind,
            config: d.config,
            backend: d.backend,
            appVersion: d.appVersion,
            startedAt: d.startedAt,
            finishedAt: d.finishedAt,
            seconds: d.seconds,
            metrics: d.metrics,
            layers: d.layers,
          },
        };
      } finally {
        clearInterval(watch);
      }
    },
    {
      connection,
      prefix,
      concurrency: Math.max(1, o.concurrency ?? 1),
      lockDuration: lockMs,
      stalledInterval: Math.max(1000, Math.floor(lockMs / 2)),
      maxStalledCount: 5,
      autorun: true,
    },
  );
  worker.on('error', () => {}); // connection drops: ioredis reconnects
  await within(
    worker.waitUntilReady(),
    15_000,
    `cannot reach Redis at ${o.url} (15 s); start redis-server or check --redis`,
  );
  log(`worker ${id} waiting for sweep points on ${o.url} (queue ${SWEEP_QUEUE}, prefix ${prefix})`);
  return {
    id,
    processed: () => processed,
    close: async () => {
      await worker.close();
      keys.disconnect();
    },
  };
}
