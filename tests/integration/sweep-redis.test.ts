// Sweeps on a real Redis (Debian's redis-server on a loopback port) with `moe-bench worker`
// processes: every point stored once, a worker killed mid-run has its point retried by another,
// a Redis restart (no persistence: everything lost) loses no result, and the local pool stores the
// same metrics as the distributed mode for the same spec. A second run of a spec reuses every point.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { openStore } from '../../src-main/store/index';
import { REDIS_BIN, startRedis, type TestRedis } from '../support/redis-server';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const bin = path.resolve(__dirname, '../../bin/moe-bench.mjs');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-redis-'));
const LOCK_MS = 3000;
// a generated 2-layer Mixtral (HF layout, byte-level tokenizer): every process resolves it by path
const MODEL = path.join(root, 'model');
writeTinyCheckpoint(MODEL, { arch: 'mixtral', layers: 2, seed: 7 });

const spec = (name: string, ratios: number[]) => ({
  version: 1,
  name,
  base: {
    version: 2,
    name,
    model: MODEL,
    calibration: { dataset: 'calib', samples: 4, seqLen: 32, seed: 1 },
    steps: [
      { method: 'expert-prune', params: { metric: 'activation_frequency' } },
      { method: 'svd', params: {} },
    ],
    evaluate: { ppl: { dataset: 'wikitext2', seqLen: 64, maxWindows: 2 } },
    export: { format: 'factored' },
  },
  axes: { ratio: ratios, contributions: { step: 0.5 }, orders: 'permutations' },
});

interface WorkerProc {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startWorker(redis: TestRedis, name: string): Promise<WorkerProc> {
  const home = path.join(root, `worker-${name}`);
  const child = spawn(process.execPath, [
    bin,
    '--home',
    home,
    'worker',
    '--redis',
    redis.url,
    '--lock-ms',
    String(LOCK_MS),
  ]);
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      if (/waiting for sweep points/.test(err)) resolve();
    });
    void exited.then((code) =>
      reject(new Error(`worker ${name} exited (${code}) before it was ready:\n${err}`)),
    );
  });
  return { child, stderr: () => err, exited };
}

async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await w.exited;
}

const until = async (cond: () => boolean, ms: number, what: string) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** hash → ppl of every succeeded point, and the number of stored compress runs */
function stored(app: WorkbenchApp, sweepId: number) {
  const v = app.sweeps.get(sweepId);
  return {
    status: v.sweep.status,
    points: v.points,
    ppl: new Map(v.points.map((p) => [p.hash, p.metrics.ppl])),
  };
}

const maybe = REDIS_BIN ? describe : describe.skip;
if (!REDIS_BIN) console.warn('SKIPPED sweep-redis: redis-server is not installed (.ci/run installs it)');

maybe('sweeps on Redis with worker processes', () => {
  let redis: TestRedis;
  let coordinator: WorkbenchApp;
  const workers: WorkerProc[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    coordinator = await createApp({ mode: 'cli', home: path.join(root, 'coordinator') });
  });

  afterAll(async () => {
    await Promise.all(workers.map(stopWorker));
    await coordinator?.close();
    await redis?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('two workers: every point stored once, the same metrics as the local pool; a rerun reuses all', async () => {
    workers.push(await startWorker(redis, 'a'), await startWorker(redis, 'b'));
    const s = coordinator.sweeps.create(spec('pair', [0.15, 0.25]));
    const p = await coordinator.sweeps.run(s.id, { redis: { url: redis.url }, pollMs: 200 });
    expect(p).toMatchObject({ total: 4, succeeded: 4, failed: 0, reused: 0 });
    const r = stored(coordinator, s.id);
    expect(r.points.map((x) => x.error)).toEqual([null, null, null, null]);
    expect(r.status).toBe('succeeded');
    expect(new Set(r.points.map((x) => x.runId)).size).toBe(4);
    // imported runs are ordinary runs with their layer records and metrics
    const runs = await coordinator.handlers['runs.list']({});
    expect(runs.filter((x) => x.kind === 'compress')).toHaveLength(4);
    const d = await coordinator.handlers['runs.get']({ id: r.points[0]!.runId! });
    expect(d.status).toBe('succeeded');
    expect(d.layers.length).toBeGreaterThan(0);
    expect(Number.isFinite(r.ppl.get(r.points[0]!.hash))).toBe(true);
    // both workers took part
    expect(new Set(r.points.map((x) => x.worker)).size).toBe(2);

    // the local pool on the same spec: identical stored metrics, point by point
    const local = await createApp({ mode: 'cli', home: path.join(root, 'local') });
    try {
      const ls = local.sweeps.create(spec('pair', [0.15, 0.25]));
      await local.sweeps.run(ls.id, { workers: 2, pollMs: 200 });
      const lr = stored(local, ls.id);
      expect(lr.points.map((x) => x.error)).toEqual([null, null, null, null]);
      expect(lr.status).toBe('succeeded');
      expect([...lr.ppl.entries()].sort()).toEqual([...r.ppl.entries()].sort());
    } finally {
      await local.close();
    }

    // identical configs are recognised by their hash: nothing is recomputed
    const again = coordinator.sweeps.create(spec('pair again', [0.15, 0.25]));
    const pa = await coordinator.sweeps.run(again.id, { redis: { url: redis.url }, pollMs: 200 });
    expect(pa).toMatchObject({ total: 4, succeeded: 4, reused: 4 });
    expect((await coordinator.handlers['runs.list']({})).filter((x) => x.kind === 'compress')).toHaveLength(
      4,
    );
  }, 600_000);

  it('a worker killed mid-run: its point is retried by another worker, one result per point', async () => {
    await Promise.all(workers.splice(0).map(stopWorker));
    const victim = await startWorker(redis, 'victim');
    const s = coordinator.sweeps.create(spec('kill', [0.3]));
    const done = coordinator.sweeps.run(s.id, { redis: { url: redis.url }, pollMs: 200 });
    await until(() => coordinator.sweeps.get(s.id).progress.running > 0, 120_000, 'a point to start');
    await new Promise((r) => setTimeout(r, 500));
    victim.child.kill('SIGKILL');
    await victim.exited;
    const rescuer = await startWorker(redis, 'rescuer');
    workers.push(rescuer);
    const p = await done;
    expect(p).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    const r = stored(coordinator, s.id);
    expect(new Set(r.points.map((x) => x.runId)).size).toBe(2);
    expect(r.points.some((x) => x.worker?.endsWith(`:${rescuer.child.pid}`))).toBe(true);
    // exactly one stored run per point in the coordinator's store
    const store = openStore(coordinator.storePath);
    try {
      const n = store.db
        .prepare('SELECT COUNT(*) AS n FROM sweep_points WHERE sweep_id = ? AND run_id IS NOT NULL')
        .get(s.id) as { n: number };
      expect(n.n).toBe(2);
    } finally {
      store.close();
    }
  }, 600_000);

  it('Redis restarting mid-sweep (losing every job) loses no result', async () => {
    const s = coordinator.sweeps.create(spec('restart', [0.1]));
    const done = coordinator.sweeps.run(s.id, { redis: { url: redis.url }, pollMs: 200 });
    await until(() => coordinator.sweeps.get(s.id).progress.succeeded >= 1, 300_000, 'the first result');
    await redis.restart();
    const p = await done;
    expect(p).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    expect(new Set(stored(coordinator, s.id).points.map((x) => x.runId)).size).toBe(2);
  }, 600_000);

  it('a worker without the model refuses the point with a clear error (no retries)', async () => {
    const s = coordinator.sweeps.create({
      ...spec('missing', [0.2]),
      base: { ...spec('missing', [0.2]).base, model: path.join(root, 'not-here') },
      axes: { ratio: [0.2] },
    });
    const p = await coordinator.sweeps.run(s.id, { redis: { url: redis.url }, pollMs: 200 });
    expect(p).toMatchObject({ total: 1, failed: 1 });
    const [pt] = coordinator.sweeps.get(s.id).points;
    expect(pt!.error).toMatch(/worker .*: .*config\.model/);
  }, 300_000);
});
