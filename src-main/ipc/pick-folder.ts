// Electron side of the native folder choice: `moe:pick` from the trusted page shows the system's
// folder dialog, and the folder the user picks becomes an allowed root of the path policy (a
// renderer may name it from then on: app/path-policy.ts), which is what lets the desktop app
// confine renderer paths without confining the user. Typed structurally (no `electron` import) so it
// is checked and tested without the Electron binary; src-main/index.ts passes the real dialog.
import type { ApiErrorBody } from '../contract/index';
import { PICK_CHANNEL, PICK_PURPOSES, type PickPurpose } from './channels';
import type { IpcMainLike } from './register-ipc';

export interface OpenDialogOptions {
  title: string;
  buttonLabel: string;
  properties: ('openDirectory' | 'createDirectory')[];
}

export interface PickerDeps {
  /** Electron's dialog.showOpenDialog, bound to the main window */
  showOpenDialog(options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>;
  /** the app's allowRoot */
  allowRoot(dir: string): void;
  isTrustedUrl(url: string): boolean;
}

export type PickOutcome = { ok: true; path: string | null } | { ok: false; error: ApiErrorBody };

const DIALOGS: Record<PickPurpose, OpenDialogOptions> = {
  'model-folder': { title: 'Add model folder', buttonLabel: 'Add model', properties: ['openDirectory'] },
  'export-folder': {
    title: 'Export checkpoint to folder',
    buttonLabel: 'Export here',
    properties: ['openDirectory', 'createDirectory'],
  },
};

/** Answers `moe:pick` for frames whose URL passes `isTrustedUrl`; returns an unregister. */
export function registerFolderPicker(ipcMain: IpcMainLike, deps: PickerDeps): () => void {
  ipcMain.handle(PICK_CHANNEL, async (event, purpose): Promise<PickOutcome> => {
    if (!deps.isTrustedUrl(event.senderFrame?.url ?? ''))
      return { ok: false, error: { code: 'unauthorized', message: 'request from an untrusted page' } };
    if (!(PICK_PURPOSES as readonly unknown[]).includes(purpose))
      return {
        ok: false,
        error: {
          code: 'bad_request',
          message: `unknown folder choice ${JSON.stringify(purpose)}; expected ${PICK_PURPOSES.join(', ')}`,
        },
      };
    const picked = await deps.showOpenDialog(DIALOGS[purpose as PickPurpose]);
    const dir = picked.canceled ? undefined : picked.filePaths[0];
    if (!dir) return { ok: true, path: null };
    deps.allowRoot(dir);
    return { ok: true, path: dir };
  });
  return () => ipcMain.removeHandler(PICK_CHANNEL);
}
