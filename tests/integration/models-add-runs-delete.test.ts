// Two defects a new user hit: adding a model folder accepted a truncated safetensors and a config
// with a string where a number belongs (the failure came later, on inspect or run); deleting runs
// said nothing about the files they wrote. Both through the app's handlers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src-main/app/api-error';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { openStore } from '../../src-main/store/index';

const TINY = path.resolve(__dirname, '../../resources/models/tiny-mixtral');

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('models.add validates the folder as the engine will read it', () => {
  let tmp: string;
  let app: WorkbenchApp;
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-add-'));
    app = await createApp({ home: path.join(tmp, 'home'), mode: 'cli' }, { resourcesDir: null });
  });
  afterEach(async () => {
    await app.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const copy = (name: string) => {
    const d = path.join(tmp, name);
    fs.cpSync(TINY, d, { recursive: true });
    return d;
  };

  it('refuses a truncated safetensors file, naming the file and the tensor', async () => {
    const d = copy('truncated');
    const f = path.join(d, 'model.safetensors');
    fs.truncateSync(f, fs.statSync(f).size - 1000);
    const e = await apiError(app.handlers['models.add']({ path: d }));
    expect(e.code).toBe('bad_request');
    expect(e.message).toContain('cannot be used as a model');
    expect(e.message).toContain('model.safetensors');
    expect(e.message).toMatch(/outside the data section/);
    expect(await app.handlers['models.list']({})).toEqual([]);
  });

  it('refuses a config with a string where a number belongs, in a plain sentence', async () => {
    const d = copy('string-number');
    const file = path.join(d, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
    cfg.num_local_experts = String(cfg.num_local_experts);
    fs.writeFileSync(file, JSON.stringify(cfg));
    const e = await apiError(app.handlers['models.add']({ path: d }));
    expect(e.message).toContain(`num_local_experts: expected a number, got "${cfg.num_local_experts}"`);
    expect(e.message).not.toMatch(/Invalid input/);
  });

  it('accepts a good folder', async () => {
    const m = await app.handlers['models.add']({ path: copy('good') });
    expect(m).toMatchObject({ name: 'good', architecture: 'mixtral' });
  });
});

describe('runs.delete handles the run’s files as asked', () => {
  let tmp: string;
  let app: WorkbenchApp;
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-del-'));
    app = await createApp({ home: path.join(tmp, 'home'), mode: 'cli' }, { resourcesDir: null });
  });
  afterEach(async () => {
    await app.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function runWithFiles(name: string): { id: number; exportDir: string; outside: string } {
    const exportDir = path.join(app.home, 'exports', name);
    fs.mkdirSync(exportDir, { recursive: true });
    fs.writeFileSync(path.join(exportDir, 'model.safetensors'), 'x');
    fs.writeFileSync(path.join(exportDir, 'config.json'), '{}');
    const outside = path.join(tmp, `${name}-elsewhere.safetensors`);
    fs.writeFileSync(outside, 'y');
    const s = openStore(app.storePath);
    try {
      const r = s.runs.create({ kind: 'compress', config: { config: { name } }, appVersion: '0' });
      s.runs.markRunning(r.id);
      s.runs.finish(r.id, 'succeeded');
      for (const p of [path.join(exportDir, 'model.safetensors'), outside])
        s.runs.recordArtifact(r.id, { path: p, kind: 'checkpoint', bytes: 1, sha256: '0' });
      return { id: r.id, exportDir, outside };
    } finally {
      s.close();
    }
  }

  it("'keep' (the default) leaves every file and lists them", async () => {
    const r = runWithFiles('a');
    const out = await app.handlers['runs.delete']({ id: r.id });
    expect(out).toEqual({
      deleted: true,
      removed: [],
      kept: [path.join(r.exportDir, 'model.safetensors'), r.outside],
    });
    expect(fs.existsSync(r.exportDir)).toBe(true);
  });

  it("'remove' deletes the export folder it wrote under the app home and keeps a file elsewhere", async () => {
    const r = runWithFiles('b');
    const out = await app.handlers['runs.delete']({ id: r.id, artifacts: 'remove' });
    expect(out).toEqual({ deleted: true, removed: [r.exportDir], kept: [r.outside] });
    expect(fs.existsSync(r.exportDir)).toBe(false);
    expect(fs.existsSync(r.outside)).toBe(true);
    expect(fs.existsSync(path.join(app.home, 'exports'))).toBe(true);
  });
});
