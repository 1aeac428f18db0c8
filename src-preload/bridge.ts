// The surface the preload exposes as `window.moeApi` (type only, shared with the renderer). Named
// functions only: the renderer never sees ipcRenderer.
import type { ApiErrorBody } from '../src-main/contract/index';
import type { PickPurpose } from '../src-main/ipc/channels';
import type { PickOutcome } from '../src-main/ipc/pick-folder';

export type { PickOutcome, PickPurpose };

export type BridgeOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

export interface MoeBridge {
  call(method: string, params: unknown): Promise<BridgeOutcome>;
  /** Subscribe to one event name; returns an unsubscribe. */
  on(event: string, listener: (data: unknown) => void): () => void;
  /** The system's folder dialog (the desktop app only): the picked folder, now usable, or null. */
  pickFolder(purpose: PickPurpose): Promise<PickOutcome>;
}
