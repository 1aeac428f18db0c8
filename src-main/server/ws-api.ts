// The WebSocket side of browser mode: request frames in, response frames out (through the shared
// dispatch), and every App event broadcast as an event frame. A bad frame gets a typed error and
// the connection stays open.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { dispatch } from '../app/dispatch';
import type { App } from '../app/services';
import { type EventFrame, RequestFrame, type ResponseFrame } from '../contract/index';
import { parseJson } from '../engine/io/json-depth';
import { tokenMatches } from './access-token';

export const API_PATH = '/api';
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

function send(ws: WebSocket, frame: ResponseFrame | EventFrame): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * A browser page from another origin must not drive the API even if it guessed the port: the
 * origin's scheme, host and port must be exactly the server's own (plain http on the Host the
 * request came to; `https://127.0.0.1:PORT` is another origin).
 */
export function sameOrigin(req: Pick<IncomingMessage, 'headers'>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  const host = req.headers.host;
  if (!host) return false;
  try {
    const o = new URL(origin);
    const self = new URL(`http://${host}`);
    return o.protocol === 'http:' && o.origin === self.origin;
  } catch {
    return false;
  }
}

async function answer(app: App, text: string): Promise<ResponseFrame> {
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (e) {
    return {
      id: null,
      ok: false,
      error: { code: 'bad_json', message: `message is not valid JSON (${(e as Error).message})` },
    };
  }
  const frame = RequestFrame.safeParse(json);
  if (!frame.success) {
    const rawId = (json as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
    return {
      id,
      ok: false,
      error: {
        code: 'bad_request',
        message: 'not a request frame {id, method, params}',
        details: frame.error.issues,
      },
    };
  }
  const outcome = await dispatch(app, frame.data.method, frame.data.params);
  return { id: frame.data.id, ...outcome };
}

export interface WsApi {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

export function createWsApi(app: App, token: string): WsApi {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const clients = new Set<WebSocket>();
  const unsubscribe = app.on((event, data) => {
    const frame: EventFrame = { event, data };
    for (const ws of clients) send(ws, frame);
  });

  wss.on('connection', (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      void answer(app, text).then((frame) => send(ws, frame));
    });
  });

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== API_PATH) return refuse(socket, 404, 'Not Found');
      if (!tokenMatches(token, url.searchParams.get('token'))) return refuse(socket, 401, 'Unauthorized');
      if (!sameOrigin(req)) return refuse(socket, 403, 'Forbidden');
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      clients.clear();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}
