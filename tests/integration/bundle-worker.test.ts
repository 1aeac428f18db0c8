// The packaged app's engine worker: electron-vite's main build (as `npm run build` makes it) must
// hold the job code, and its engine-worker.js must run a built-in job under plain Node, with no
// TypeScript sources or tsx involved.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { resolveConfig } from 'electron-vite';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whiteningScale } from '../../src-main/engine/methods/lowrank/scaling';
import type {
  WhiteningReply,
  WhiteningRequest,
} from '../../src-main/engine/methods/lowrank/whitening-protocol';
import { EngineHost } from '../../src-main/host/engine-host';
import { openStore, type Store } from '../../src-main/store/index';

const root = fileURLToPath(new URL('../..', import.meta.url));
// inside the repo, so the bundle's external imports (zod, tfjs) resolve from node_modules
const outDir = path.join(root, 'out', `.bundle-test-${process.pid}`);
const mainDir = path.join(outDir, 'main');
let home: string;
let store: Store;

/** Only the main target of electron.vite.config.ts (the renderer and preload are not under test). */
async function buildMain(): Promise<void> {
  const env = process.env.NODE_ENV;
  try {
    const resolved = await resolveConfig(
      { configFile: path.join(root, 'electron.vite.config.ts'), root, build: { outDir }, logLevel: 'warn' },
      'build',
      'production',
    );
    const main = resolved.config?.main;
    if (!main) throw new Error('electron.vite.config.ts has no main target');
    await build({ ...main, logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = env;
  }
}

beforeAll(async () => {
  await buildMain();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  store = openStore(path.join(home, 'w.sqlite'));
}, 120_000);
afterAll(() => {
  store?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const bundleFiles = () =>
  fs.readdirSync(mainDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));

describe('bundled engine worker', () => {
  it('emits engine-worker.js and the job code, with no job loaded by a .ts file URL', () => {
    expect(fs.existsSync(path.join(mainDir, 'engine-worker.js'))).toBe(true);
    const texts = bundleFiles().map((f) => fs.readFileSync(path.join(mainDir, f), 'utf8'));
    expect(texts.some((t) => t.includes('gflops@'))).toBe(true);
    // a registry entry `module: new URL('./job.ts', import.meta.url)` would point into the bundle
    for (const t of texts) expect(t).not.toMatch(/new URL\(\s*["'][^"']+\.ts["']/);
  });

  it('runs diagnostics.gemm through EngineHost from the bundle under plain Node', async () => {
    const emitted: string[] = [];
    const host = new EngineHost({
      store,
      appVersion: 'bundle-test',
      workerScript: pathToFileURL(path.join(mainDir, 'engine-worker.js')),
      emit: (event) => emitted.push(event),
    });
    try {
      const job = host.start('diagnostics.gemm', { sizes: [32, 64], seconds: 0.05 });
      const fin = await host.wait(job.jobId);
      expect(fin).toMatchObject({ state: 'succeeded', error: null });
      const run = store.runs.detail(job.runId!)!;
      expect(run.status).toBe('succeeded');
      expect(run.backend).toBe('wasm');
      expect(run.metrics.map((m) => m.name)).toEqual(['gflops@32', 'gflops@64']);
      for (const m of run.metrics) expect(m.value).toBeGreaterThan(0);
      expect(emitted).toContain('job.progress');
    } finally {
      await host.close();
    }
  });

  it('emits whitening-worker.js, which whitens under plain Node with the bits of the calling thread', async () => {
    const file = path.join(mainDir, 'whitening-worker.js');
    expect(fs.existsSync(file)).toBe(true);
    const n = 6;
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] = i === j ? 3 + i : 1 / (2 + i + j);
    const w = new Worker(pathToFileURL(file));
    try {
      const reply = await new Promise<WhiteningReply>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        const req: WhiteningRequest = { id: 7, dim: n, tokens: 50, gram: g.slice(), options: {} };
        w.postMessage(req);
      });
      expect(reply.id).toBe(7);
      expect(reply.ok && reply.scale).toEqual(
        whiteningScale({ dim: n, tokens: 50, gram: { rows: n, cols: n, data: g } }),
      );
    } finally {
      await w.terminate();
    }
  });
});
