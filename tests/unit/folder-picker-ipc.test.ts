// The desktop app's native folder choice at the IPC/handler level (Electron's binary cannot run
// here): `moe:pick` from the trusted page shows the dialog, and only a folder the user actually
// picked becomes an allowed root of the path policy; untrusted frames, unknown purposes and a
// cancelled dialog change nothing. Then the whole route against a real electron-mode app: a renderer
// path outside the roots is refused until the user picks its folder. The renderer side: the picker
// exists only with the preload bridge (browser mode downloads instead), errors become ApiCallErrors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src-main/app/create-app';
import { dispatch } from '../../src-main/app/dispatch';
import { PICK_CHANNEL, PICK_PURPOSES } from '../../src-main/ipc/channels';
import { type OpenDialogOptions, registerFolderPicker } from '../../src-main/ipc/pick-folder';
import type { InvokeEventLike } from '../../src-main/ipc/register-ipc';
import { ApiCallError } from '../../src-renderer/src/api/api-call-error';
import { folderPicker } from '../../src-renderer/src/api/folder-picker';
import { insideFolder } from '../../src-renderer/src/components/runs/RunExport';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>;
const TRUSTED = 'file:///app/out/renderer/index.html';

function harness(answer: { canceled: boolean; filePaths: string[] }) {
  const handlers = new Map<string, Listener>();
  const dialogs: OpenDialogOptions[] = [];
  const allowed: string[] = [];
  const off = registerFolderPicker(
    {
      handle: (c, l) => void handlers.set(c, l),
      removeHandler: (c) => void handlers.delete(c),
    },
    {
      showOpenDialog: async (o) => {
        dialogs.push(o);
        return answer;
      },
      allowRoot: (d) => allowed.push(d),
      isTrustedUrl: (u) => u === TRUSTED,
    },
  );
  const pick = (purpose: unknown, url = TRUSTED) =>
    handlers.get(PICK_CHANNEL)!({ senderFrame: { url } }, purpose);
  return { handlers, dialogs, allowed, off, pick };
}

describe('moe:pick', () => {
  it('shows the dialog for the purpose and allows the picked folder', async () => {
    const h = harness({ canceled: false, filePaths: ['/data/exports'] });
    expect([...h.handlers.keys()]).toEqual([PICK_CHANNEL]);
    expect(await h.pick('export-folder')).toEqual({ ok: true, path: '/data/exports' });
    expect(h.dialogs).toEqual([
      {
        title: 'Export checkpoint to folder',
        buttonLabel: 'Export here',
        properties: ['openDirectory', 'createDirectory'],
      },
    ]);
    expect(h.allowed).toEqual(['/data/exports']);
    expect(await h.pick('model-folder')).toEqual({ ok: true, path: '/data/exports' });
    expect(h.dialogs[1]!.properties).toEqual(['openDirectory']);
    h.off();
    expect(h.handlers.size).toBe(0);
  });

  it('a cancelled dialog answers null and allows nothing', async () => {
    const h = harness({ canceled: true, filePaths: [] });
    expect(await h.pick('model-folder')).toEqual({ ok: true, path: null });
    expect(h.allowed).toEqual([]);
  });

  it('refuses an untrusted page and an unknown purpose without a dialog', async () => {
    const h = harness({ canceled: false, filePaths: ['/etc'] });
    expect(await h.pick('model-folder', 'https://evil.example/')).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(await h.pick('any-folder')).toEqual({
      ok: false,
      error: {
        code: 'bad_request',
        message: `unknown folder choice "any-folder"; expected ${PICK_PURPOSES.join(', ')}`,
      },
    });
    expect(h.dialogs).toEqual([]);
    expect(h.allowed).toEqual([]);
  });
});

describe('a picked folder against a real electron-mode app', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pick-folder-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('the renderer may name the folder (and what is inside it) only after the user picked it', async () => {
    const app = await createApp({ home: path.join(root, 'home'), mode: 'electron' }, { resourcesDir: null });
    try {
      const picked = path.join(root, 'my-exports');
      fs.mkdirSync(picked);
      const exportJob = (outDir: string) =>
        dispatch(app, 'jobs.start', {
          kind: 'export',
          params: { model: 'tiny-mixtral', outDir, format: 'dense' },
        });
      const before = await exportJob(path.join(picked, 'run-1-export-dense'));
      expect(before.ok ? '' : before.error.message).toMatch(
        /params\.outDir: .*outside the folders this client may use/,
      );

      const h = harness({ canceled: false, filePaths: [picked] });
      registerFolderPicker(
        { handle: (c, l) => void h.handlers.set(`${c}:app`, l), removeHandler: () => {} },
        {
          showOpenDialog: async () => ({ canceled: false, filePaths: [picked] }),
          allowRoot: (d) => app.allowRoot(d),
          isTrustedUrl: (u) => u === TRUSTED,
        },
      );
      expect(
        await h.handlers.get(`${PICK_CHANNEL}:app`)!({ senderFrame: { url: TRUSTED } }, 'export-folder'),
      ).toEqual({
        ok: true,
        path: picked,
      });
      // the path check passes now (the job then fails resolving the model: no resources in this app)
      const after = await exportJob(insideFolder(picked, 'run-1-export-dense'));
      expect(after.ok ? '' : after.error.message).not.toMatch(/outside the folders/);
      // a sibling of the picked folder is still outside
      const sibling = await exportJob(`${picked}-dense`);
      expect(sibling.ok ? '' : sibling.error.message).toMatch(/params\.outDir: .*outside/);
    } finally {
      await app.close();
    }
  });
});

describe('renderer folder picker', () => {
  it('exists only with the preload bridge (browser mode downloads instead)', () => {
    expect(folderPicker(undefined)).toBeNull();
    expect(folderPicker({} as never)).toBeNull();
  });

  it('answers the picked folder or null, and turns an error into an ApiCallError', async () => {
    const answers = [
      { ok: true as const, path: '/x' },
      { ok: true as const, path: null },
      {
        ok: false as const,
        error: { code: 'unauthorized' as const, message: 'request from an untrusted page' },
      },
    ];
    const asked: string[] = [];
    const pick = folderPicker({
      pickFolder: async (p) => {
        asked.push(p);
        return answers.shift()!;
      },
    })!;
    expect(await pick('export-folder')).toBe('/x');
    expect(await pick('model-folder')).toBeNull();
    const e = await pick('model-folder').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiCallError);
    expect(e).toMatchObject({ code: 'unauthorized', message: 'request from an untrusted page' });
    expect(asked).toEqual(['export-folder', 'model-folder', 'model-folder']);
  });

  it('puts the export inside the chosen folder, with its separator', () => {
    expect(insideFolder('/data/exports/', 'run-3-export')).toBe('/data/exports/run-3-export');
    expect(insideFolder('C:\\Users\\me\\exports', 'run-3-export')).toBe(
      'C:\\Users\\me\\exports\\run-3-export',
    );
  });
});
