// createApp: the handlers every transport calls, with their ApiError codes, and App.on events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/app/api-error';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { dispatch } from '../../src-main/app/dispatch';
import type { EventName } from '../../src-main/contract/index';
import { TEST_JOBS } from '../fixtures/jobs/index';

let home: string;
let app: WorkbenchApp;
let events: { event: EventName; data: unknown }[];
beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'app-'));
  app = await createApp({ mode: 'browser', home }, { registry: TEST_JOBS, resourcesDir: null });
  events = [];
  app.on((event, data) => events.push({ event, data }));
});
afterEach(async () => {
  await app.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('createApp handlers', () => {
  it('app.info reports the worker backend and the store path', async () => {
    expect(await app.handlers['app.info']({})).toEqual({
      appVersion: '0.1.0',
      backend: 'wasm',
      storePath: path.join(home, 'workbench.sqlite'),
      mode: 'browser',
    });
  });

  it('models.add checks the folder and its config.json, and refuses duplicates', async () => {
    const dir = path.join(home, 'olmoe-tiny');
    expect((await apiError(app.handlers['models.add']({ path: dir }))).message).toMatch(/does not exist/);
    fs.mkdirSync(dir);
    expect((await apiError(app.handlers['models.add']({ path: dir }))).message).toMatch(
      /has no config\.json/,
    );
    fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "olmoe",');
    const bad = await apiError(app.handlers['models.add']({ path: dir }));
    expect(bad.code).toBe('bad_request');
    expect(bad.message).toMatch(/config\.json: not valid JSON/);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "olmoe"}');
    const m = await app.handlers['models.add']({ path: dir });
    expect(m).toMatchObject({ name: 'olmoe-tiny', architecture: 'olmoe', path: dir, summary: null });
    expect((await apiError(app.handlers['models.add']({ path: dir, name: 'again' }))).code).toBe('conflict');
    expect(await app.handlers['models.list']({})).toHaveLength(1);
    expect(await app.handlers['models.remove']({ id: m.id })).toEqual({ removed: true });
  });

  it('pipelines.save creates, updates, and refuses a duplicate name or missing id', async () => {
    const p = await app.handlers['pipelines.save']({ name: 'a', config: { steps: [] } });
    const q = await app.handlers['pipelines.save']({ id: p.id, name: 'a', config: { steps: [1] } });
    expect(q).toMatchObject({ id: p.id, config: { steps: [1] } });
    await app.handlers['pipelines.save']({ name: 'b', config: {} });
    expect((await apiError(app.handlers['pipelines.save']({ id: p.id, name: 'b', config: {} }))).code).toBe(
      'conflict',
    );
    expect((await apiError(app.handlers['pipelines.save']({ id: 99, name: 'z', config: {} }))).code).toBe(
      'not_found',
    );
    expect((await app.handlers['pipelines.list']({})).map((x) => x.name)).toEqual(['a', 'b']);
  });

  it('validates params itself (callers may skip the transport) with bad_request', async () => {
    const e = await apiError(app.handlers['runs.get']({ id: -1 } as never));
    expect(e.code).toBe('bad_request');
    const unknownKind = await apiError(app.handlers['jobs.start']({ kind: 'nope', params: {} }));
    expect(unknownKind).toMatchObject({ code: 'bad_request' });
    expect(unknownKind.message).toMatch(/known kinds: test\.steps/);
  });

  it('jobs through the app: events, runs.delete refuses a running run, cancel', async () => {
    const job = await app.handlers['jobs.start']({ kind: 'test.spin', params: {} });
    expect((await apiError(app.handlers['runs.delete']({ id: job.runId! }))).code).toBe('conflict');
    expect(await app.handlers['jobs.list']({})).toMatchObject([{ jobId: job.jobId, state: 'running' }]);
    expect(await app.handlers['jobs.cancel']({ jobId: job.jobId })).toEqual({ cancelled: true });
    const fin = await app.waitForJob(job.jobId);
    expect(fin.state).toBe('cancelled');
    expect(events.map((e) => e.event)).toContain('job.finished');
    expect(
      events
        .filter((e) => e.event === 'runs.changed')
        .every((e) => (e.data as { runId: number }).runId === job.runId),
    ).toBe(true);
    expect(await app.handlers['runs.delete']({ id: job.runId! })).toMatchObject({
      deleted: true,
      removed: [],
    });
    expect((await apiError(app.handlers['runs.get']({ id: job.runId! }))).code).toBe('not_found');
  });

  it('dispatch() maps ApiError codes onto the wire', async () => {
    expect(await dispatch(app, 'runs.get', { id: 5 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'run 5 not found' },
    });
  });
});
