import type { ApiErrorBody } from '@contract';

export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };
export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

/** What the API client needs from a channel to the main side (IPC or WebSocket). */
export interface Transport {
  readonly kind: 'ipc' | 'websocket';
  /** Resolves with the call's outcome; rejects with ApiCallError('disconnected') when the channel drops mid-call. */
  request(method: string, params: unknown): Promise<CallOutcome>;
  /** Subscribe to one event name; returns an unsubscribe. */
  onEvent(event: string, listener: (data: unknown) => void): () => void;
  onState(listener: (state: ConnectionState) => void): () => void;
  readonly state: ConnectionState;
  close(): void;
}
