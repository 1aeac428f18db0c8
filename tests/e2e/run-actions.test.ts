// Issue 16's run and model actions in a real browser against the real server, store and engine
// worker (browser mode): an example pipeline opened from the landing page, Evaluate on a model's
// page (a stored baseline under the protocol shown), a run page's Re-run (same config, new run),
// Open in editor (its config as a draft) and Export (a dense checkpoint whose files download with
// the bytes on disk), and Delete selected (a confirmation naming the runs; the exported files kept
// as chosen). Any console or page error fails it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { type Browser, hasChromium, launchChromium } from './chromium';
import { builtRenderer } from './renderer-setup';

declare function editorText(): string;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-results', 'screenshots');

const CONFIG = {
  version: 2,
  name: 'e2e-actions-svd',
  model: 'tiny-mixtral',
  calibration: { dataset: 'calib', samples: 4, seqLen: 32, seed: 3 },
  target: { ratio: 0.2 },
  steps: [{ method: 'svd', params: {} }],
  evaluate: { ppl: { dataset: 'heldout', seqLen: 32, maxWindows: 2 } },
};

describe.skipIf(!hasChromium)('run and model actions in browser mode', () => {
  let home: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let runId = 0;
  let rerunId = 0;
  let evalRunId = 0;
  const problems: string[] = [];
  const base = () => server.url.split('#')[0];

  beforeAll(async () => {
    const rendererDir = await builtRenderer();
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-actions-'));
    app = await createApp({ home, mode: 'browser' }); // the checkout's built-in models, data, examples
    const job = await app.handlers['pipelines.run']({ config: CONFIG });
    const done = await app.waitForJob(job.jobId);
    expect(done.error).toBeNull();
    runId = job.runId!;
    server = await startServer(app, { port: 0, rendererDir });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // Monaco renders spaces as U+00A0; tests read the visible text with plain spaces
    await page.addInitScript(() => {
      (window as unknown as { editorText: () => string }).editorText = () =>
        (document.querySelector('.monaco-editor .view-lines')?.textContent ?? '').replace(/\u00a0/g, ' ');
    });
    await page.goto(server.url);
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('opens an example pipeline from the landing page in the editor', async () => {
    const examples = await app.handlers['pipelines.examples']({});
    expect(examples.length).toBeGreaterThan(0);
    const example = examples[0]!;
    await page.goto(`${base()}#/`);
    const list = page.getByRole('list', { name: 'Example pipelines' });
    await list.getByRole('link', { name: example.name, exact: true }).click();
    await page.waitForURL(/#\/pipelines\?example=/);
    await page
      .getByRole('status')
      .filter({ hasText: `Opened the example ${example.file}.` })
      .waitFor();
    const name = (example.config as { name: string }).name;
    await page.waitForFunction((n) => editorText().includes(`"name": "${n}"`), name);
    await shot('actions-01-example-opened');
  });

  it('evaluates a model from its page: a baseline run under the protocol shown', async () => {
    await page.goto(`${base()}#/models`);
    await page.getByRole('list', { name: 'Models' }).getByText('tiny-mixtral', { exact: true }).click();
    const panel = page.getByRole('region', { name: 'Evaluate (baseline)' });
    await panel.getByLabel('Data set').fill('heldout');
    await panel.getByLabel('Sequence length').fill('32');
    await panel.getByLabel('Max windows').fill('2');
    await panel.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const outcome = panel.getByTestId('evaluate-outcome');
    await outcome.getByText('Baseline stored').waitFor({ timeout: 120_000 });
    const open = outcome.getByRole('button', { name: /^Open run #\d+$/ });
    evalRunId = Number(/#(\d+)/.exec((await open.textContent()) ?? '')![1]);
    const run = await app.handlers['runs.get']({ id: evalRunId });
    expect(run).toMatchObject({ kind: 'eval.ppl', status: 'succeeded', modelName: 'tiny-mixtral' });
    expect(run.config).toMatchObject({ evaluations: [{ dataset: 'heldout', seqLen: 32, maxWindows: 2 }] });
    expect(run.metrics.some((m) => m.name === 'ppl' && Number.isFinite(m.value))).toBe(true);
    await open.click();
    await page.waitForURL(new RegExp(`#/runs/${evalRunId}$`));
    await shot('actions-02-evaluate-baseline');
  }, 180_000);

  it('re-runs a finished run: a new run of the same config', async () => {
    await page.goto(`${base()}#/runs/${runId}`);
    await page.getByRole('heading', { name: `Run #${runId}` }).waitFor();
    await page.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForURL((u) => /#\/runs\/(\d+)$/.test(u.hash) && !u.hash.endsWith(`/${runId}`));
    rerunId = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    expect(rerunId).toBeGreaterThan(runId);
    await page.getByRole('heading', { name: `Run #${rerunId}` }).waitFor();
    // let it finish (its export is what the delete below keeps on disk)
    await page.getByRole('button', { name: 'Re-run' }).waitFor({ timeout: 180_000 });
    const [first, again] = [
      await app.handlers['runs.get']({ id: runId }),
      await app.handlers['runs.get']({ id: rerunId }),
    ];
    expect(again.status).toBe('succeeded');
    expect((again.config as { config: unknown }).config).toEqual(
      (first.config as { config: unknown }).config,
    );
  }, 240_000);

  it('opens a run in the editor: its config as a draft', async () => {
    await page.goto(`${base()}#/runs/${runId}`);
    await page.getByRole('button', { name: 'Open in editor' }).click();
    await page.waitForURL(new RegExp(`#/pipelines\\?fromRun=${runId}$`));
    await page
      .getByRole('status')
      .filter({ hasText: `Opened the config of run #${runId}.` })
      .waitFor();
    await page.waitForFunction((n) => editorText().includes(`"name": "${n}"`), CONFIG.name);
    await shot('actions-03-open-in-editor');
  });

  it('exports a run as a dense checkpoint from its page; the files download with the bytes on disk', async () => {
    await page.goto(`${base()}#/runs/${runId}`);
    const panel = page.getByRole('region', { name: 'Export' });
    await panel.getByLabel('Format').selectOption('dense');
    await panel.getByRole('button', { name: 'Export checkpoint' }).click();
    const files = panel.getByTestId('export-files');
    await files.waitFor({ timeout: 180_000 });
    const links = files.getByRole('link');
    expect(await links.count()).toBeGreaterThan(0);
    const exports = (await app.handlers['runs.list']({})).filter((r) => r.kind === 'export');
    expect(exports).toHaveLength(1);
    const artifacts = (await app.handlers['runs.get']({ id: exports[0]!.id })).artifacts;
    expect(
      artifacts.every((a) => a.path.startsWith(path.join(home, 'exports', `run-${runId}-export-dense`))),
    ).toBe(true);
    const weights = artifacts.findIndex((a) => a.path.endsWith('.safetensors'));
    expect(weights).toBeGreaterThanOrEqual(0);
    const [download] = await Promise.all([page.waitForEvent('download'), links.nth(weights).click()]);
    const got = readFileSync((await download.path())!);
    expect(got.equals(readFileSync(artifacts[weights]!.path))).toBe(true);
    await shot('actions-04-export');
  }, 240_000);

  it('deletes the selected runs after a confirmation naming them; their exports stay as chosen', async () => {
    await page.goto(`${base()}#/runs`);
    const rerun = await app.handlers['runs.get']({ id: rerunId });
    const exported = rerun.artifacts.map((a) => a.path);
    expect(exported.length).toBeGreaterThan(0);
    await page.getByLabel(`Select run ${rerunId}`).check();
    await page.getByLabel(`Select run ${evalRunId}`).check();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm deletion' });
    await dialog.waitFor();
    const text = (await dialog.textContent()) ?? '';
    const [lo, hi] = [evalRunId, rerunId].sort((a, b) => a - b);
    expect(text).toMatch(new RegExp(`Delete 2 runs #${lo} \\S.*, #${hi} \\S`));
    expect(text).toContain(`#${rerunId} ${CONFIG.name}`);
    await shot('actions-05-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete, keep exported files' }).click();
    const outcome = page.getByTestId('delete-outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toContain(`#${rerunId} deleted`);
    expect(await outcome.textContent()).toContain(`#${evalRunId} deleted`);
    const left = (await app.handlers['runs.list']({})).map((r) => r.id);
    expect(left).not.toContain(rerunId);
    expect(left).not.toContain(evalRunId);
    expect(left).toContain(runId);
    await page.locator(`tr[data-run-id="${rerunId}"]`).waitFor({ state: 'detached' });
    for (const p of exported) expect(existsSync(p), p).toBe(true);
  });

  it('raised no console or page errors', () => {
    expect(problems).toEqual([]);
  });
});
