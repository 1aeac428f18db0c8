// Issue 17 (path confinement): `models.add` and the reads the Electron renderer asks for go through
// the path policy. A renderer or browser-mode client names model folders and data files inside the
// home, the built-in resources or a folder the user allowed (a native dialog pick, `serve
// --allow-root`); a folder elsewhere, or a link inside the home leading out, is refused naming the
// field, nothing is added. The CLI (the local user) reads where it is told. Through `dispatch`, the
// route IPC and the WebSocket take.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { dispatch } from '../../src-main/app/dispatch';

const TINY = path.resolve(__dirname, '../../resources/models/tiny-mixtral');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'models-confined-'));
const outsideModel = path.join(root, 'elsewhere', 'tiny');
const outsideText = path.join(root, 'elsewhere', 'notes.txt');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeAll(() => {
  fs.cpSync(TINY, outsideModel, { recursive: true });
  fs.writeFileSync(outsideText, 'not for the renderer\n');
});

const failure = async (app: WorkbenchApp, method: string, params: unknown) => {
  const out = await dispatch(app, method, params);
  if (out.ok) throw new Error(`${method} succeeded: ${JSON.stringify(out.result)}`);
  return out.error;
};

describe.each(['electron', 'browser'] as const)('%s mode', (mode) => {
  let app: WorkbenchApp;
  let home: string;
  beforeAll(async () => {
    home = path.join(root, `home-${mode}`);
    app = await createApp({ home, mode }, { resourcesDir: null });
  });
  afterAll(() => app.close());

  it('models.add of a folder outside the allowed roots is refused naming the field; nothing added', async () => {
    const e = await failure(app, 'models.add', { path: outsideModel });
    expect(e.code).toBe('bad_request');
    expect(e.message).toContain(
      `path: '${outsideModel}' resolves to '${fs.realpathSync(outsideModel)}', outside the folders this client may use`,
    );
    expect(await app.handlers['models.list']({})).toEqual([]);
  });

  it('a link inside the home to a folder outside is refused, not followed', async () => {
    const link = path.join(home, 'linked-model');
    fs.symlinkSync(outsideModel, link);
    const e = await failure(app, 'models.add', { path: link });
    expect(e.message).toMatch(/linked-model' resolves to '.*elsewhere\/tiny', outside/);
    expect(await app.handlers['models.list']({})).toEqual([]);
  });

  it('reads the renderer asks for are confined too: a data file, a calibration text', async () => {
    expect((await failure(app, 'datasets.add', { path: outsideText })).message).toMatch(/^path: .*outside/);
    const e = await failure(app, 'jobs.start', {
      kind: 'eval.ppl',
      params: { model: 'tiny-mixtral', evaluations: [{ text: outsideText }] },
    });
    expect(e.message).toMatch(/params\.evaluations\[0\]\.text: .*outside/);
  });

  it('a folder inside the home is accepted, relative to the home', async () => {
    fs.cpSync(TINY, path.join(home, 'models', 'mine'), { recursive: true });
    const m = await app.handlers['models.add']({ path: 'models/mine' });
    expect(m).toMatchObject({ name: 'mine', path: path.join(fs.realpathSync(home), 'models', 'mine') });
  });

  it('a folder the user picked in a native dialog (allowRoot) is accepted from then on', async () => {
    app.allowRoot(path.dirname(outsideModel));
    const m = await app.handlers['models.add']({ path: outsideModel, name: 'picked' });
    expect(m).toMatchObject({ name: 'picked', path: fs.realpathSync(outsideModel) });
  });
});

describe('cli mode', () => {
  it('the local user adds a folder anywhere', async () => {
    const app = await createApp({ home: path.join(root, 'home-cli'), mode: 'cli' }, { resourcesDir: null });
    try {
      const m = await app.handlers['models.add']({ path: outsideModel });
      expect(m).toMatchObject({ name: 'tiny' });
    } finally {
      await app.close();
    }
  });
});
