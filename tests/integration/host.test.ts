import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventData, EventName, JobProgress } from '../../src-main/contract/index';
import { EngineHost } from '../../src-main/host/engine-host';
import { estimateEta } from '../../src-main/host/eta';
import { openStore, type Store } from '../../src-main/store/index';
import { TEST_JOBS } from '../fixtures/jobs/index';

let dir: string;
let store: Store;
let host: EngineHost;
let events: { event: EventName; data: unknown }[];

function makeHost(opts: { concurrency?: number; cancelGraceMs?: number } = {}) {
  return new EngineHost({
    store,
    appVersion: 'test',
    registry: TEST_JOBS,
    emit: <E extends EventName>(event: E, data: EventData<E>) => events.push({ event, data }),
    ...opts,
  });
}

/** resolves on the first progress event of a job (event-driven, no sleeps) */
function firstProgress(jobId: string): Promise<JobProgress> {
  return new Promise((resolve) => {
    const tick = () => {
      const hit = events.find((e) => e.event === 'job.progress' && (e.data as JobProgress).jobId === jobId);
      if (hit) resolve(hit.data as JobProgress);
      else setImmediate(tick);
    };
    tick();
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-'));
  store = openStore(path.join(dir, 'w.sqlite'));
  events = [];
  host = makeHost();
});
afterEach(async () => {
  await host.close();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ETA', () => {
  it('extrapolates the average pace; unknown before any progress, zero when done', () => {
    expect(estimateEta(10, 0.25)).toBeCloseTo(30, 12);
    expect(estimateEta(10, 0)).toBeNull();
    expect(estimateEta(10, 1)).toBe(0);
  });
});

describe('engine host', () => {
  it('runs a job in a worker: progress events in order, records written, run succeeded', async () => {
    const job = host.start('test.steps', { layers: 4 });
    expect(job.state).toBe('running'); // the queue was empty, so it started at once
    const fin = await host.wait(job.jobId);
    expect(fin).toMatchObject({ state: 'succeeded', error: null, result: { layers: 4, resumeFrom: null } });
    const progress = events.filter((e) => e.event === 'job.progress').map((e) => e.data as JobProgress);
    expect(progress.map((p) => [p.layer, p.layers, p.fraction])).toEqual([
      [0, 4, 0.25],
      [1, 4, 0.5],
      [2, 4, 0.75],
      [3, 4, 1],
    ]);
    expect(progress.every((p) => p.etaSeconds !== null && p.etaSeconds >= 0)).toBe(true);
    expect(progress[3]!.etaSeconds).toBe(0);
    const run = store.runs.detail(fin.runId!)!;
    expect(run).toMatchObject({
      kind: 'test.steps',
      status: 'succeeded',
      backend: 'wasm',
      headline: { ppl: 12.5 },
    });
    expect(run.layers.map((l) => l.stats)).toEqual([0, 1, 2, 3].map((l) => ({ l, square: l * l })));
    expect(run.artifacts).toHaveLength(1);
    expect(store.runs.lastFinishedLayer(fin.runId!)).toBe(3);
    const last = events.at(-1)!;
    expect(last.event).toBe('job.finished');
    expect(events.filter((e) => e.event === 'runs.changed').length).toBeGreaterThanOrEqual(3);
  });

  it('resumes a cancelled run from its last finished layer, keeping its records and config', async () => {
    const first = host.start('test.steps', { layers: 3 });
    const fin = await host.wait(first.jobId);
    const runId = fin.runId!;
    expect(() => host.start('test.steps', {}, { resumeRunId: runId })).toThrow(/already succeeded/);
    // as if the process died mid-run
    store.db.prepare(`UPDATE runs SET status = 'interrupted' WHERE id = ?`).run(runId);
    const again = host.start('test.steps', { layers: 99 }, { resumeRunId: runId });
    expect(again.runId).toBe(runId);
    const fin2 = await host.wait(again.jobId);
    expect(fin2).toMatchObject({ state: 'succeeded', result: { layers: 3, resumeFrom: 2 } });
    expect(store.runs.list()).toHaveLength(1);
    expect(() => host.start('test.spin', {}, { resumeRunId: runId })).toThrow(/not a 'test.spin' run/);
  });

  it('rejects an unknown kind and bad params before creating a run', () => {
    expect(() => host.start('nope', {})).toThrow(/unknown job kind 'nope'/);
    expect(() => host.start('test.steps', { layers: 0 })).toThrow(/params\.layers/);
    expect(() => host.start('test.steps', { extra: 1 })).toThrow();
    expect(store.runs.list()).toHaveLength(0);
  });

  it('queues a second job while one runs (concurrency 1), then runs it', async () => {
    const a = host.start('test.spin', {});
    const b = host.start('test.steps', { layers: 2 });
    await firstProgress(a.jobId);
    expect(host.get(b.jobId)!.state).toBe('queued');
    expect(store.runs.get(b.runId!)!.status).toBe('queued');
    expect(host.cancel(a.jobId)).toBe(true);
    expect((await host.wait(a.jobId)).state).toBe('cancelled');
    expect((await host.wait(b.jobId)).state).toBe('succeeded');
  });

  it('cancels cooperatively and keeps what the run recorded', async () => {
    const job = host.start('test.spin', {});
    await firstProgress(job.jobId);
    host.cancel(job.jobId);
    const fin = await host.wait(job.jobId);
    expect(fin.state).toBe('cancelled');
    const run = store.runs.detail(job.runId!)!;
    expect(run.status).toBe('cancelled');
    expect(run.layers).toHaveLength(1);
    expect(host.cancel(job.jobId)).toBe(false);
  });

  it('terminates a worker that ignores cancel after the grace period', async () => {
    await host.close();
    host = makeHost({ cancelGraceMs: 200 });
    const job = host.start('test.deaf', {});
    await firstProgress(job.jobId);
    host.cancel(job.jobId);
    expect((await host.wait(job.jobId)).state).toBe('cancelled');
    expect(store.runs.get(job.runId!)!.status).toBe('cancelled');
  });

  it('cancels a queued job without starting it', async () => {
    const a = host.start('test.spin', {});
    const b = host.start('test.steps', {});
    expect(host.cancel(b.jobId)).toBe(true);
    expect((await host.wait(b.jobId)).state).toBe('cancelled');
    expect(store.runs.get(b.runId!)).toMatchObject({ status: 'cancelled', startedAt: null });
    host.cancel(a.jobId);
    await host.wait(a.jobId);
  });

  it('isolates a worker that exits non-zero: job and run failed, records kept, next job runs', async () => {
    const bad = host.start('test.exit', {});
    const fin = await host.wait(bad.jobId);
    expect(fin).toMatchObject({ state: 'failed', error: 'engine worker exited with code 3' });
    const run = store.runs.detail(bad.runId!)!;
    expect(run).toMatchObject({ status: 'failed', error: 'engine worker exited with code 3' });
    expect(run.metrics.map((m) => m.name)).toEqual(['before-crash']);
    const next = host.start('test.steps', { layers: 1 });
    expect((await host.wait(next.jobId)).state).toBe('succeeded');
  });

  it('reports a thrown error as failed with its message (job without a run)', async () => {
    const job = host.start('test.throw', {});
    expect(job.runId).toBeNull();
    expect(await host.wait(job.jobId)).toMatchObject({
      state: 'failed',
      error: 'boom: tensor shapes disagree',
      runId: null,
    });
    expect(host.list().map((j) => j.state)).toEqual(['failed']);
  });

  it('turns an uncaught worker exception into a failed run with its message', async () => {
    const job = host.start('test.uncaught', {});
    expect(await host.wait(job.jobId)).toMatchObject({
      state: 'failed',
      error: 'engine worker crashed: async boom',
    });
    expect(store.runs.get(job.runId!)).toMatchObject({
      status: 'failed',
      error: 'engine worker crashed: async boom',
    });
  });

  it('fails a job cleanly when the worker script cannot start', async () => {
    await host.close();
    host = new EngineHost({
      store,
      appVersion: 'test',
      registry: TEST_JOBS,
      workerScript: new URL('./no-such-worker.mjs', import.meta.url),
      emit: () => {},
    });
    const job = host.start('test.steps', {});
    const fin = await host.wait(job.jobId);
    expect(fin.state).toBe('failed');
    expect(fin.error).toMatch(/no-such-worker/);
  });

  it('close() stops running work and records it cancelled', async () => {
    const job = host.start('test.spin', {});
    await firstProgress(job.jobId);
    await host.close();
    expect(store.runs.get(job.runId!)).toMatchObject({
      status: 'cancelled',
      error: 'app closed before the job finished',
    });
  });
});

describe('resolveWorkerScript', () => {
  it('uses the source entry from TypeScript, the bundled engine-worker.js from a build', async () => {
    const { resolveWorkerScript } = await import('../../src-main/host/worker-script');
    expect(resolveWorkerScript().pathname).toMatch(/src-main\/host\/worker-entry\.mjs$/);
    const main = path.join(dir, 'out', 'main');
    const chunks = path.join(main, 'chunks');
    fs.mkdirSync(chunks, { recursive: true });
    const fromIndex = pathToFileURL(path.join(main, 'index.js')).href;
    const fromChunk = pathToFileURL(path.join(chunks, 'create-app-x1.js')).href;
    // not built yet: the expected bundle path, so a job's failure names it
    expect(resolveWorkerScript(fromIndex).pathname).toBe(path.join(main, 'engine-worker.js'));
    fs.writeFileSync(path.join(main, 'engine-worker.js'), '');
    expect(resolveWorkerScript(fromIndex).pathname).toBe(path.join(main, 'engine-worker.js'));
    expect(resolveWorkerScript(fromChunk).pathname).toBe(path.join(main, 'engine-worker.js'));
  });
});
