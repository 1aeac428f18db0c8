// The renderer's API client over the real WebSocket transport and a real browser-mode server
// (ws's WebSocket stands in for the browser's): typed results, typed errors, events, reconnect.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { ApiCallError } from '../../src-renderer/src/api/api-call-error';
import { createApiClient } from '../../src-renderer/src/api/api-client';
import type { ConnectionState } from '../../src-renderer/src/api/transport';
import { wsTransport } from '../../src-renderer/src/api/ws-transport';
import { fakeApp } from './server-fake-app';

const TOKEN = 'c'.repeat(64);
const model = {
  id: 1,
  name: 'm',
  path: '/m',
  architecture: null,
  builtin: false,
  summary: null,
  addedAt: '2026-01-01T00:00:00.000Z',
};
const app = fakeApp({ 'models.list': async () => [model] });
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  dir = mkdtempSync(path.join(os.tmpdir(), 'moe-client-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
  server = await startServer(app, { port: 0, rendererDir: dir, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function nextState(client: ReturnType<typeof createApiClient>, want: ConnectionState): Promise<void> {
  return new Promise((resolve) => {
    if (client.state === want) return resolve();
    const off = client.onState((s) => {
      if (s === want) {
        off();
        resolve();
      }
    });
  });
}

describe('api client over WebSocket', () => {
  it('returns results, throws typed errors and delivers events', async () => {
    const transport = wsTransport(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`);
    const client = createApiClient(transport);
    expect(client.transport).toBe('websocket');
    expect(await client.call('models.list', {})).toEqual([model]);

    const err = await client.call('runs.get', { id: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiCallError);
    expect((err as ApiCallError).code).toBe('not_found');
    const bad = await client.call('models.add', { path: '' }).catch((e: unknown) => e);
    expect((bad as ApiCallError).code).toBe('bad_request');

    const got = new Promise((resolve) => {
      const off = client.on('runs.changed', (d) => {
        off();
        resolve(d);
      });
    });
    app.emit('job.progress', {
      jobId: 'j',
      runId: 1,
      step: 's',
      layer: null,
      layers: null,
      fraction: 0.5,
      etaSeconds: null,
    });
    app.emit('runs.changed', { runId: 77 });
    expect(await got).toEqual({ runId: 77 });
    transport.close();
  });

  it('reconnects after the server goes away and sends calls queued while down', async () => {
    const port = server.port;
    const transport = wsTransport(`ws://127.0.0.1:${port}/api?token=${TOKEN}`);
    const client = createApiClient(transport);
    await nextState(client, 'open');

    const dropped = nextState(client, 'reconnecting');
    await server.close();
    await dropped;
    const queued = client.call('models.list', {});

    server = await startServer(app, { port, rendererDir: dir, token: TOKEN });
    await nextState(client, 'open');
    expect(await queued).toEqual([model]);
    transport.close();
  });
});
