// `npm start` on an empty store starts real work on the embedded default model; later starts don't.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { startFirstRunDemo } from '../../src-main/app/first-run';

let app: WorkbenchApp | null = null;
let home = '';
afterEach(async () => {
  await app?.close();
  app = null;
  rmSync(home, { recursive: true, force: true });
});

test('first start runs the default model baseline and stores its perplexity; the second start does nothing', async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'moe-first-run-'));
  app = await createApp({ mode: 'browser', home });
  const jobId = await startFirstRunDemo(app);
  expect(jobId).not.toBeNull();
  await app.waitForJob(jobId!);
  const [run] = await app.handlers['runs.list']({});
  expect(run!.status).toBe('succeeded');
  expect(run!.headline.ppl).toBeGreaterThan(50);
  expect(run!.headline.ppl).toBeLessThan(1000);
  expect(await startFirstRunDemo(app)).toBeNull();
});
