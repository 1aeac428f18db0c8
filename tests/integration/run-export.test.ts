// Export from the UI: the run page offers the export job's formats that apply to the run (GPTQ only
// after a quantization step), and in browser mode a recorded artifact downloads from the server
// with the page's token (nothing else does).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { openStore } from '../../src-main/store/index';

describe('run export', () => {
  let tmp: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-export-ui-'));
    fs.mkdirSync(path.join(tmp, 'renderer'));
    fs.writeFileSync(path.join(tmp, 'renderer', 'index.html'), '<!doctype html>');
    app = await createApp({ home: path.join(tmp, 'home'), mode: 'browser' }, { resourcesDir: null });
    server = await startServer(app, { port: 0, rendererDir: path.join(tmp, 'renderer'), token: 't0ken' });
  });
  afterEach(async () => {
    await server.close();
    await app.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function compressRun(methods: string[]): { id: number; file: string } {
    const dir = path.join(app.home, 'exports', `run-${methods.join('-')}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'model.safetensors');
    fs.writeFileSync(file, 'weights bytes');
    const s = openStore(app.storePath);
    try {
      const r = s.runs.create({
        kind: 'compress',
        config: { config: { name: 'x', steps: methods.map((method) => ({ method, params: {} })) } },
        appVersion: '0',
      });
      s.runs.markRunning(r.id);
      s.runs.finish(r.id, 'succeeded');
      s.runs.recordArtifact(r.id, { path: file, kind: 'checkpoint', bytes: 13, sha256: '0' });
      return { id: r.id, file };
    } finally {
      s.close();
    }
  }

  it('offers factored and dense for any checkpoint, GPTQ only after a quantization step', async () => {
    const plain = compressRun(['svd']);
    const quant = compressRun(['svd', 'gptq']);
    const a = await app.handlers['runs.exportOptions']({ id: plain.id });
    expect(a.checkpoint).toBe(path.dirname(plain.file));
    expect([...a.formats].sort()).toEqual(['dense', 'factored']);
    expect(a.defaultOutDir.startsWith(path.join(app.home, 'exports'))).toBe(true);
    expect((await app.handlers['runs.exportOptions']({ id: quant.id })).formats).toContain('gptq');
  });

  it('serves a recorded artifact as a download with the token, refuses without it', async () => {
    const r = compressRun(['svd']);
    const base = `http://127.0.0.1:${server.port}`;
    const ok = await fetch(`${base}/files/${r.id}/0?token=t0ken`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="model.safetensors"');
    expect(await ok.text()).toBe('weights bytes');
    expect((await fetch(`${base}/files/${r.id}/0?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/files/${r.id}/1?token=t0ken`)).status).toBe(404);
    expect((await fetch(`${base}/files/999/0?token=t0ken`)).status).toBe(404);
  });
});
