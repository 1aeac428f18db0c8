// The real UI against a real server, store and engine worker: what a user sees on first start,
// adding a model folder, running the GEMM diagnostic with live progress, and the stored run.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { type Browser, hasChromium, launchChromium } from './chromium';
import { builtRenderer } from './renderer-setup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-results', 'screenshots');
const MODEL_DIR = path.join(root, 'tests', 'fixtures', 'e2e-model');

describe.skipIf(!hasChromium)('workbench UI in browser mode', () => {
  let home: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const rendererDir = await builtRenderer();
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-home-'));
    // a first start without bundled models, so the empty states show (built-ins: app-builtins.test.ts)
    // the fixtures folder as `serve --allow-root` would allow it: models.add is confined
    app = await createApp(
      { home, mode: 'browser', allowedRoots: [path.join(root, 'tests', 'fixtures')] },
      { resourcesDir: null },
    );
    server = await startServer(app, { port: 0, rendererDir });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('shows the header with the active backend and store path, and an empty store', async () => {
    await page.getByRole('heading', { name: 'MoE Workbench' }).waitFor();
    const backend = page.getByTestId('backend');
    await page.waitForFunction(() => document.querySelector('[data-testid=backend]')?.textContent !== '…');
    const info = await app.handlers['app.info']({});
    expect(await backend.textContent()).toBe(info.backend);
    expect(await page.getByTestId('store-path').textContent()).toBe(app.storePath);
    await page.getByTestId('models-empty').waitFor();
    await page.getByTestId('runs-empty').waitFor();
    await shot('01-first-start');
  });

  it('reports a bad model folder inline and lists a good one once added', async () => {
    const field = page.getByLabel('Model folder path');
    await field.fill(path.join(root, 'tests', 'fixtures', 'no-such-model'));
    await page.getByRole('button', { name: 'Add model' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'does not exist' });
    await alert.waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');

    await field.fill(MODEL_DIR);
    await page.getByRole('button', { name: 'Add model' }).click();
    const list = page.getByRole('list', { name: 'Models' });
    await list.getByText('e2e-model', { exact: true }).waitFor();
    expect(await list.getByRole('listitem').count()).toBe(1);
    expect(await list.textContent()).toContain('olmoe');
    expect(await field.inputValue()).toBe('');
    expect(await page.getByRole('alert').count()).toBe(0);
    await shot('02-model-added');
  });

  it('runs the GEMM diagnostic with live progress and lists the finished run', async () => {
    await page.getByLabel('Matrix sizes').fill('64, 128');
    await page.getByLabel('Seconds per size').fill('1.5');
    await page.getByRole('button', { name: 'Run GEMM diagnostic' }).click();

    await page.getByTestId('job-step').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    expect(await page.getByTestId('job-step').textContent()).toMatch(/^gemm (64|128)$/);
    await page.getByLabel('Job progress').waitFor();
    await shot('03-diagnostic-running');

    const outcome = page.getByTestId('job-outcome');
    await outcome.waitFor({ timeout: 60_000 });
    expect(await outcome.textContent()).toContain('succeeded');
    const sizes = page.getByRole('table', { name: 'GEMM throughput' });
    expect(await sizes.locator('tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^64\s*[\d.]+$/),
      expect.stringMatching(/^128\s*[\d.]+$/),
    ]);
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

    const runs = await app.handlers['runs.list']({});
    expect(runs).toHaveLength(1);
    const row = page.locator(`tr[data-run-id="${runs[0]!.id}"]`);
    await row.getByText('succeeded').waitFor();
    const text = await row.textContent();
    expect(text).toContain('diagnostics.gemm');
    await shot('04-run-finished');
  });

  it('re-attaches to a running diagnostic after a reload, cancels it and records it as cancelled', async () => {
    await page.getByLabel('Matrix sizes').fill('64');
    await page.getByLabel('Seconds per size').fill('120');
    await page.getByRole('button', { name: 'Run GEMM diagnostic' }).click();
    await page.getByTestId('job-step').waitFor();
    // A reload must find the running job again (jobs.list) and keep following it.
    await page.reload();
    await page.getByTestId('job-step').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    const outcome = page.getByTestId('job-outcome');
    await outcome.getByText('cancelled').waitFor({ timeout: 30_000 });
    const runs = await app.handlers['runs.list']({});
    expect(runs.map((r) => r.status).sort()).toEqual(['cancelled', 'succeeded']);
    const newest = runs.reduce((a, b) => (a.id > b.id ? a : b));
    await page.locator(`tr[data-run-id="${newest.id}"]`).getByText('cancelled').waitFor();
  });

  it('switches to the dark theme and remembers it across a reload', async () => {
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.reload();
    await page.getByRole('button', { name: 'Switch to light theme' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.locator('tr[data-run-id]').first().waitFor();
    await shot('05-dark-theme');
  });

  it('explains what to do when the page is opened without its token', async () => {
    const bare = await browser.context.newPage();
    bare.on('pageerror', (err) => problems.push(`page error (no token): ${err.message}`));
    await bare.goto(server.url.replace(/\?token=.*$/, ''));
    const alert = bare.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('access token');
    await bare.close();
  });

  it('raised no console or page errors', () => {
    expect(problems).toEqual([]);
  });
});
