// The surface the preload exposes as `window.moeApi` (type only, shared with the renderer). Named
// functions only: the renderer never sees ipcRenderer.
import type { ApiErrorBody } from '../src-main/contract/index';

export type BridgeOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

export interface MoeBridge {
  call(method: string, params: unknown): Promise<BridgeOutcome>;
  /** Subscribe to one event name; returns an unsubscribe. */
  on(event: string, listener: (data: unknown) => void): () => void;
}
