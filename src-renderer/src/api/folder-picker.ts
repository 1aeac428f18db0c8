// The desktop app's native folder choice (preload `moeApi.pickFolder`, main process src-main/ipc/
// pick-folder.ts): the picked folder becomes one the renderer may name. Browser mode has none (a
// remote server's folders are not the user's to browse): its exports download instead.
import type { MoeBridge, PickPurpose } from '../../../src-preload/bridge';
import { ApiCallError } from './api-call-error';

/** Resolves to the picked folder, or null when the user closed the dialog. */
export type FolderPicker = (purpose: PickPurpose) => Promise<string | null>;

export function folderPicker(bridge: Pick<MoeBridge, 'pickFolder'> | undefined): FolderPicker | null {
  if (typeof bridge?.pickFolder !== 'function') return null;
  return async (purpose) => {
    const out = await bridge.pickFolder(purpose);
    if (!out.ok) throw ApiCallError.fromBody(out.error);
    return out.path;
  };
}

/** The picker of this window: present inside the Electron shell only. */
export const windowFolderPicker = (): FolderPicker | null =>
  folderPicker(typeof window === 'undefined' ? undefined : window.moeApi);
