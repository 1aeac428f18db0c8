// Browser-mode transport: one WebSocket to /api carrying request/response frames and event frames.
// It reconnects with backoff when the socket drops; calls made while down wait for the reconnect,
// calls in flight when it drops fail with `disconnected` (they may or may not have run).
import { ApiCallError } from './api-call-error';
import type { CallOutcome, ConnectionState, Transport } from './transport';

type Pending = { resolve: (o: CallOutcome) => void; reject: (e: Error) => void };
const MAX_BACKOFF_MS = 5000;

export function wsTransport(url: string): Transport {
  let socket: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let nextId = 1;
  let backoff = 250;
  let closed = false;
  const inFlight = new Map<number, Pending>();
  const waiting: string[] = [];
  const eventListeners = new Map<string, Set<(data: unknown) => void>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();

  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of stateListeners) l(s);
  };

  const onMessage = (msg: MessageEvent) => {
    let frame: { id?: unknown; ok?: boolean; event?: unknown; data?: unknown };
    try {
      frame = JSON.parse(String(msg.data));
    } catch {
      return;
    }
    if (typeof frame.event === 'string') {
      for (const l of eventListeners.get(frame.event) ?? []) l(frame.data);
      return;
    }
    const pending = typeof frame.id === 'number' ? inFlight.get(frame.id) : undefined;
    if (!pending) return;
    inFlight.delete(frame.id as number);
    pending.resolve(frame as CallOutcome);
  };

  const connect = () => {
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      backoff = 250;
      setState('open');
      for (const text of waiting.splice(0)) ws.send(text);
    };
    ws.onmessage = onMessage;
    // A refused or dropped socket always ends in onclose, which owns the retry.
    ws.onerror = () => {};
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      for (const [id, p] of inFlight) {
        inFlight.delete(id);
        p.reject(new ApiCallError('disconnected', 'connection to the workbench was lost'));
      }
      if (closed) return;
      setState('reconnecting');
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
  };
  connect();

  return {
    kind: 'websocket',
    get state() {
      return state;
    },
    request(method, params) {
      const id = nextId++;
      const text = JSON.stringify({ id, method, params });
      return new Promise<CallOutcome>((resolve, reject) => {
        inFlight.set(id, { resolve, reject });
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
        else waiting.push(text);
      });
    },
    onEvent(event, listener) {
      const set = eventListeners.get(event) ?? new Set<(data: unknown) => void>();
      eventListeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    close() {
      closed = true;
      socket?.close();
    },
  };
}

/** The API socket URL for a page served by `moe-bench serve`, or null without an access token. */
export function apiUrlFromLocation(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string | null {
  const token = new URLSearchParams(loc.search).get('token');
  if (!token) return null;
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api?token=${encodeURIComponent(token)}`;
}
