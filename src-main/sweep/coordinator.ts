// Runs a stored sweep to completion: points already computed anywhere (same config hash) are
// reused, points whose plan cannot reach their target are refused before compute, the rest go to
// an executor — the app's own worker pool, or BullMQ workers on Redis (sweep/redis-executor.ts).
// Every result is an ordinary stored run linked to its point exactly once. The coordinator only
// reads and writes the store; cancellation is a flag in the store, so any process can ask for it.
import type { EngineHost } from '../host/engine-host';
import type { Store } from '../store/index';
import type { PointRecord, SweepRecord, SweepStatus } from '../store/repos/sweeps';
import { expandSweep } from './expand';
import type { SweepSpec } from './sweep-spec';

export interface SweepEnv {
  store: Store;
  host: EngineHost;
  /** the app home: local points export under <home>/sweeps/<id>/ */
  home: string;
  /**
   * Why this config cannot run here (its plan's problem), or null. `modelMissing` when the model does
   * not resolve on this machine: a remote worker may still have it, so the point is not refused.
   */
  check(config: unknown): { problem: string | null; modelMissing: boolean };
  /** the store's model id of a config's model (imported runs name it), or null */
  modelIdOf(config: unknown): number | null;
}

export interface SweepProgress {
  sweepId: number;
  total: number;
  succeeded: number;
  failed: number;
  refused: number;
  cancelled: number;
  running: number;
  pending: number;
  reused: number;
}

export interface RunSweepOptions {
  /** local pool size (capped by memory, see poolSize); ignored with `redis` */
  workers?: number;
  redis?: { url: string; prefix?: string };
  /** how often the store's cancel flag and the queue are looked at (ms) */
  pollMs?: number;
  onProgress?(p: SweepProgress): void;
}

/** What an executor reports about one point. */
export interface PointExecutor {
  /** Computes the points (each settled in the store as it ends); resolves when none is left in flight. */
  run(points: readonly PointRecord[], control: ExecutorControl): Promise<void>;
}

export interface ExecutorControl {
  cancelled(): boolean;
  /** called after each point settles (progress, change events) */
  changed(): void;
}

export function sweepProgress(store: Store, sweepId: number): SweepProgress {
  const points = store.sweeps.points(sweepId);
  const count = (s: PointRecord['status']) => points.filter((p) => p.status === s).length;
  return {
    sweepId,
    total: points.length,
    succeeded: count('succeeded'),
    failed: count('failed'),
    refused: count('refused'),
    cancelled: count('cancelled'),
    running: count('running'),
    pending: count('pending'),
    reused: points.filter((p) => p.reused).length,
  };
}

/** Expand and store a sweep (nothing runs). */
export function createSweep(store: Store, spec: SweepSpec, file?: string): SweepRecord {
  const points = expandSweep(spec, file);
  return store.sweeps.create(
    spec.name,
    spec,
    points.map((p) => ({
      index: p.index,
      hash: p.hash,
      label: p.label,
      ratio: p.ratio,
      contributions: p.contributions as Record<string, number>,
      order: p.order,
      params: p.params,
      config: p.config,
    })),
  );
}

/** Reuse what exists, refuse what cannot run; returns the points left to compute. */
export function preparePoints(env: SweepEnv, sweepId: number): PointRecord[] {
  const left: PointRecord[] = [];
  for (const p of env.store.sweeps.openPoints(sweepId)) {
    const done = env.store.sweeps.succeededRunOf(p.hash);
    if (done !== null) {
      env.store.sweeps.link(sweepId, p.hash, done, { reused: true });
      continue;
    }
    const c = env.check(p.config);
    if (c.problem && !c.modelMissing) {
      env.store.sweeps.settle(sweepId, p.hash, 'refused', c.problem);
      continue;
    }
    left.push(p);
  }
  return left;
}

/** Run (or resume) sweep `sweepId` until every point is settled or the sweep is cancelled. */
export async function runSweep(
  env: SweepEnv,
  sweepId: number,
  opts: RunSweepOptions = {},
): Promise<SweepProgress> {
  const sweeps = env.store.sweeps;
  const sweep = sweeps.get(sweepId);
  if (!sweep) throw new Error(`no sweep ${sweepId}`);
  sweeps.start(sweepId, opts.redis ? `redis ${opts.redis.url}` : `local ${opts.workers ?? 1}`);
  const report = () => opts.onProgress?.(sweepProgress(env.store, sweepId));
  let status: SweepStatus = 'failed';
  try {
    const points = preparePoints(env, sweepId);
    report();
    const executor: PointExecutor = opts.redis
      ? new (await import('./redis-executor')).RedisExecutor(env, sweepId, opts.redis, opts.pollMs ?? 500)
      : new (await import('./local-executor')).LocalExecutor(
          env,
          sweepId,
          opts.workers ?? 1,
          opts.pollMs ?? 500,
        );
    const control: ExecutorControl = {
      cancelled: () => sweeps.get(sweepId)?.cancelRequested ?? true,
      changed: report,
    };
    await executor.run(points, control);
    const p = sweepProgress(env.store, sweepId);
    status = control.cancelled() || p.cancelled > 0 ? 'cancelled' : p.failed > 0 ? 'failed' : 'succeeded';
    return p;
  } finally {
    // points a dead executor left running go back to pending: a resume computes them
    for (const p of sweeps.points(sweepId))
      if (p.status === 'running') sweeps.settle(sweepId, p.hash, 'cancelled', 'the sweep stopped');
    sweeps.finish(sweepId, status);
    report();
  }
}
