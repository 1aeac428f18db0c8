// Electron side of the API: one invoke channel routed through the shared dispatch, and App events
// pushed to the window. Typed structurally (no `electron` import) so it is checked and tested
// without the Electron binary; src-main/index.ts passes the real ipcMain and webContents.

import { type DispatchOutcome, dispatch } from '../app/dispatch';
import type { App } from '../app/services';
import type { EventFrame } from '../contract/index';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels';

export interface InvokeEventLike {
  senderFrame?: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface EventSink {
  send(channel: string, frame: EventFrame): void;
  isDestroyed(): boolean;
}

/** Answers `moe:call` for frames whose URL passes `isTrustedUrl`; returns an unregister. */
export function registerIpc(
  ipcMain: IpcMainLike,
  app: App,
  isTrustedUrl: (url: string) => boolean,
): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, method, params): Promise<DispatchOutcome> => {
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedUrl(url)) {
      return { ok: false, error: { code: 'unauthorized', message: 'request from an untrusted page' } };
    }
    if (typeof method !== 'string') {
      return { ok: false, error: { code: 'bad_request', message: 'method must be a string' } };
    }
    return dispatch(app, method, params);
  });
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}

/** Pushes every App event to one window while it lives; returns an unsubscribe. */
export function forwardEvents(app: App, sink: EventSink): () => void {
  return app.on((event, data) => {
    if (!sink.isDestroyed()) sink.send(EVENT_CHANNEL, { event, data });
  });
}
