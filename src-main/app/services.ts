// The service surface shared by Electron IPC, the WebSocket server and the CLI. Transports
// validate a request against the contract, then call the handler with the parsed params.
import type { z } from 'zod';
import type { BackendName, EventData, EventName, Method, RequestMap, Result } from '../contract/index';

export type Handler<M extends Method> = (params: z.output<RequestMap[M]['params']>) => Promise<Result<M>>;
export type Handlers = { [M in Method]: Handler<M> };

export type EventListener = <E extends EventName>(event: E, data: EventData<E>) => void;

export interface AppOptions {
  /** Store and app data folder; defaults to MOE_WORKBENCH_HOME or the per-user default. */
  home?: string | undefined;
  /** Force a compute backend (--backend / MOE_BACKEND). */
  backend?: BackendName | undefined;
  mode: 'electron' | 'browser' | 'cli';
  /** folders besides the home a renderer / browser client may name (app/path-policy.ts) */
  allowedRoots?: readonly string[] | undefined;
}

export interface App {
  readonly handlers: Handlers;
  /** Subscribe to events (job progress, job finished, runs changed); returns an unsubscribe. */
  on(listener: EventListener): () => void;
  /** Stop workers, mark unfinished jobs cancelled, close the store. */
  close(): Promise<void>;
}
