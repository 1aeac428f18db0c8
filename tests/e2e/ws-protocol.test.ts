// The browser-mode WebSocket as a client sees it: the token gate, typed errors for frames that are
// not JSON or break the contract (on a connection that stays usable), and broadcast events.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';

let home: string;
let app: WorkbenchApp;
let server: RunningServer;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'moe-ws-home-'));
  writeFileSync(path.join(home, 'index.html'), '<!doctype html><title>stub</title>');
  app = await createApp({ home, mode: 'browser' }, { resourcesDir: null });
  server = await startServer(app, { port: 0, rendererDir: home });
});

afterAll(async () => {
  await server?.close();
  await app?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const apiUrl = (token?: string) =>
  `ws://127.0.0.1:${server.port}/api${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

/** The HTTP status of a refused upgrade, or 101 when the socket opened. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (e) => reject(e));
  });
}

type Frame = Record<string, unknown>;

/** A client that keeps response frames and event frames apart (events may precede a response). */
interface Conn {
  ws: WebSocket;
  response(): Promise<Frame>;
  event(name: string): Promise<Frame>;
}

function queue() {
  const items: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  return {
    push(f: Frame) {
      const i = waiters.findIndex((w) => w.match(f));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(f);
      else items.push(f);
    },
    take(match: (f: Frame) => boolean): Promise<Frame> {
      const i = items.findIndex(match);
      if (i >= 0) return Promise.resolve(items.splice(i, 1)[0]!);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

async function connect(): Promise<Conn> {
  const ws = new WebSocket(apiUrl(server.token));
  const responses = queue();
  const events = queue();
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as Frame;
    (typeof f.event === 'string' ? events : responses).push(f);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    response: () => responses.take(() => true),
    event: (name) => events.take((f) => f.event === name),
  };
}

describe('browser-mode WebSocket API', () => {
  it('prints a loopback URL carrying a 32-byte hex token', () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('refuses an upgrade without the token, with a wrong one, or from another origin', async () => {
    expect(await upgradeStatus(apiUrl())).toBe(401);
    expect(await upgradeStatus(apiUrl('0'.repeat(64)))).toBe(401);
    expect(await upgradeStatus(apiUrl(`${server.token}x`))).toBe(401);
    expect(await upgradeStatus(apiUrl(server.token), { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/other?token=${server.token}`)).toBe(404);
    expect(await upgradeStatus(apiUrl(server.token))).toBe(101);
  });

  it('answers bad frames with typed errors and keeps the connection open', async () => {
    const c = await connect();
    c.ws.send('{not json');
    expect(await c.response()).toEqual({
      id: null,
      ok: false,
      error: { code: 'bad_json', message: expect.any(String) },
    });

    c.ws.send(JSON.stringify({ id: 7, params: {} }));
    expect(await c.response()).toMatchObject({ id: 7, ok: false, error: { code: 'bad_request' } });

    c.ws.send(JSON.stringify({ id: 8, method: 'models.frobnicate', params: {} }));
    expect(await c.response()).toMatchObject({ id: 8, ok: false, error: { code: 'unknown_method' } });

    c.ws.send(JSON.stringify({ id: 9, method: 'models.add', params: { path: '' } }));
    const bad = await c.response();
    expect(bad).toMatchObject({ id: 9, ok: false, error: { code: 'bad_request' } });
    expect((bad.error as { details: { path: string[] }[] }).details[0]!.path).toEqual(['path']);

    c.ws.send(JSON.stringify({ id: 10, method: 'runs.get', params: { id: 424242 } }));
    expect(await c.response()).toMatchObject({ id: 10, ok: false, error: { code: 'not_found' } });

    c.ws.send(JSON.stringify({ id: 'ok-1', method: 'models.list', params: {} }));
    expect(await c.response()).toEqual({ id: 'ok-1', ok: true, result: [] });
    c.ws.close();
  });

  it('broadcasts job events to every connected client', async () => {
    const a = await connect();
    const b = await connect();
    a.ws.send(
      JSON.stringify({
        id: 1,
        method: 'jobs.start',
        params: { kind: 'diagnostics.gemm', params: { sizes: [32], seconds: 0.2 } },
      }),
    );
    const started = await a.response();
    expect(started).toMatchObject({ id: 1, ok: true, result: { kind: 'diagnostics.gemm' } });
    const jobId = (started.result as { jobId: string }).jobId;
    const [fa, fb] = (await Promise.all([a.event('job.finished'), b.event('job.finished')])).map(
      (f) => f.data,
    );
    expect(fa).toMatchObject({ jobId, state: 'succeeded' });
    expect(fb).toMatchObject({ jobId, state: 'succeeded' });
    a.ws.close();
    b.ws.close();
  });
});

/** One request on a fresh connection: its response frame. */
async function call(method: string, params: unknown): Promise<Frame> {
  const c = await connect();
  c.ws.send(JSON.stringify({ id: 1, method, params }));
  const f = await c.response();
  c.ws.close();
  return f;
}

describe('pipelines over the WebSocket', () => {
  // this app has no resources folder (so no built-in names): the built-in model by its path
  const model = path.resolve(import.meta.dirname, '../../resources/models/tiny-mixtral');
  const calibFile = path.resolve(import.meta.dirname, '../../resources/data/calib/c4-calib.txt');
  const base = {
    version: 2,
    name: 'ws-pipe',
    model,
    calibration: { dataset: calibFile },
    target: { ratio: 0.2 },
  };
  const twoSteps = [
    { method: 'moe-svd', params: {} },
    { method: 'svd-llm', params: { rank: 8 } },
  ];

  it('lists methods with their family and knob', async () => {
    const f = await call('methods.list', {});
    expect(f.ok).toBe(true);
    const list = f.result as { id: string; family: string; knob: string }[];
    expect(list.find((m) => m.id === 'svd-llm')).toMatchObject({ family: 'D', knob: 'rank' });
  });

  it('plans a two-step pipeline and explains an unreachable budget', async () => {
    const f = await call('pipelines.plan', { config: { ...base, steps: twoSteps } });
    expect(f).toMatchObject({ ok: true, result: { ok: false, budgetFamilies: ['D'] } });
    const r = f.result as {
      issues: { path: string }[];
      plan: { steps: { method: string; knobs: Record<string, number> }[]; problem: string };
    };
    expect(r.plan.steps.map((s) => s.method)).toEqual(['moe-svd', 'svd-llm']);
    expect(r.plan.steps[1]!.knobs).toEqual({ rank: 8 });
    expect(r.plan.problem).toMatch(/reachable ratio/);
    expect(r.issues.map((i) => i.path)).toEqual(['target.ratio']);

    const v = await call('pipelines.validate', { config: { ...base, steps: twoSteps } });
    expect(v).toMatchObject({ ok: true, result: { ok: false, issues: [{ path: 'target.ratio' }] } });
    const bad = await call('pipelines.plan', { config: { ...base, steps: [] } });
    expect(bad).toMatchObject({ ok: true, result: { ok: false, plan: null, issues: [{ path: 'steps' }] } });
  });

  it('refuses to run an unreachable budget, and runs the resolved config of a valid one', async () => {
    const refused = await call('pipelines.run', { config: { ...base, steps: twoSteps } });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'bad_request', details: [{ path: 'target.ratio' }] },
    });
    // a built-in data set name this app has no data root for is refused on its field, before any job
    const noData = await call('pipelines.validate', {
      config: { ...base, calibration: { dataset: 'calib' }, steps: [{ method: 'svd', params: {} }] },
    });
    expect(noData).toMatchObject({
      ok: true,
      result: { ok: false, issues: [{ path: 'calibration.dataset' }] },
    });

    // browser mode reads client-named text only inside the home and the allowed roots: this app has
    // no resources folder, so the install's calibration file is outside them and refused on its field
    const outside = await call('pipelines.run', {
      config: {
        ...base,
        calibration: { dataset: calibFile, samples: 2, seqLen: 16 },
        steps: [{ method: 'svd', params: {} }],
      },
    });
    expect(outside).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const outsideMessage = (outside.error as { message: string }).message;
    expect(outsideMessage).toMatch(/^params\.config\.calibration\.dataset: /);
    expect(outsideMessage).toContain('outside the folders this client may use');

    const homeCalib = path.join(home, 'c4-calib.txt');
    copyFileSync(calibFile, homeCalib);
    const c = await connect();
    const v1 = {
      version: 1,
      name: 'ws-run',
      model,
      calibration: { dataset: homeCalib, samples: 2, seqLen: 16 },
      target: { ratio: 0.2 },
      steps: [{ method: 'svd', params: {} }],
    };
    c.ws.send(JSON.stringify({ id: 2, method: 'pipelines.run', params: { config: v1 } }));
    const started = await c.response();
    expect(started).toMatchObject({ ok: true, result: { kind: 'compress' } });
    const job = started.result as { jobId: string; runId: number };
    const stored = (await app.handlers['runs.get']({ id: job.runId })).config as { config: unknown };
    // parse once, store what ran: version 2, every default filled in
    expect(stored.config).toMatchObject({
      version: 2,
      name: 'ws-run',
      calibration: { dataset: homeCalib, samples: 2, seqLen: 16, seed: 3, batch: 8 },
      steps: [{ method: 'svd', params: { svd: { method: 'auto' } } }],
    });
    c.ws.send(JSON.stringify({ id: 3, method: 'jobs.cancel', params: { jobId: job.jobId } }));
    await c.event('job.finished');
    c.ws.close();
  });
});
