// The Electron IPC adapter with a stand-in ipcMain: one channel, sender check, shared dispatch.
import { describe, expect, it } from 'vitest';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../src-main/ipc/channels';
import { forwardEvents, type InvokeEventLike, registerIpc } from '../../src-main/ipc/register-ipc';
import { fakeApp } from './server-fake-app';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Listener>();
  return {
    handlers,
    handle(channel: string, l: Listener) {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, l);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
  };
}

const TRUSTED = 'file:///app/out/renderer/index.html';
const trusted = (url: string) => url === TRUSTED;

describe('registerIpc', () => {
  it('routes calls from the trusted page through dispatch', async () => {
    const ipc = fakeIpcMain();
    const app = fakeApp({ 'models.list': async () => [] });
    registerIpc(ipc, app, trusted);
    expect([...ipc.handlers.keys()]).toEqual([CALL_CHANNEL]);
    const call = ipc.handlers.get(CALL_CHANNEL)!;
    expect(await call({ senderFrame: { url: TRUSTED } }, 'models.list', {})).toEqual({
      ok: true,
      result: [],
    });
    expect(await call({ senderFrame: { url: TRUSTED } }, 'models.add', { path: '' })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await call({ senderFrame: { url: TRUSTED } }, 12, {})).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  it('refuses frames from any other page without calling the app', async () => {
    const ipc = fakeIpcMain();
    const app = fakeApp({ 'models.list': async () => [] });
    registerIpc(ipc, app, trusted);
    const call = ipc.handlers.get(CALL_CHANNEL)!;
    for (const ev of [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: null }, {}]) {
      expect(await call(ev, 'models.list', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    }
    expect(app.calls).toHaveLength(0);
  });

  it('unregisters its channel', () => {
    const ipc = fakeIpcMain();
    const off = registerIpc(ipc, fakeApp({}), trusted);
    off();
    expect(ipc.handlers.size).toBe(0);
  });
});

describe('forwardEvents', () => {
  it('sends event frames to a live window and stops when unsubscribed', () => {
    const app = fakeApp({});
    const sent: unknown[] = [];
    let destroyed = false;
    const off = forwardEvents(app, { send: (ch, f) => sent.push([ch, f]), isDestroyed: () => destroyed });
    app.emit('runs.changed', { runId: 4 });
    destroyed = true;
    app.emit('runs.changed', { runId: 5 });
    off();
    destroyed = false;
    app.emit('runs.changed', { runId: 6 });
    expect(sent).toEqual([[EVENT_CHANNEL, { event: 'runs.changed', data: { runId: 4 } }]]);
    expect(app.listenerCount()).toBe(0);
  });
});
