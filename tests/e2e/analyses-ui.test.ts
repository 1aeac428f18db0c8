// The analysis views in the real UI: an analysis started from the model page runs in the engine
// worker and its stored result draws on the page; stored runs of the other kinds draw on their run
// pages (recharts SVG, heatmaps, tables), with no console errors. Screenshots go to test-results.
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
const CAL = { samples: 4, seqLen: 32, batch: 2 };

describe.skipIf(!hasChromium)('analysis views in browser mode', () => {
  let home: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const rendererDir = await builtRenderer();
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-analyses-'));
    app = await createApp({ home, mode: 'browser' }); // the checkout's built-in models and data
    server = await startServer(app, { port: 0, rendererDir });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(server.url);
  }, 600_000); // a renderer build on a busy machine takes minutes

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('runs a routing analysis from the model page and shows its heatmap and coverage', async () => {
    await page.goto(`${server.url.split('#')[0]}#/models`);
    await page.getByRole('list', { name: 'Models' }).getByText('tiny-mixtral', { exact: true }).click();
    const form = page.getByRole('form', { name: 'Start an analysis' });
    await form.getByLabel('Calibration samples').fill('4');
    await form.getByLabel('Tokens per sample').fill('32');
    await form.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByTestId('routing-heatmap').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-testid=routing-heatmap] [data-cell]').count()).toBe(4 * 8);
    expect(await page.getByRole('table', { name: 'Calibration coverage' }).locator('tbody tr').count()).toBe(
      4,
    );
    await shot('analysis-01-routing-from-model-page');
  });

  it.each(['entropy', 'energy', 'similarity'] as const)(
    'draws a stored %s run on its run page',
    async (kind) => {
      const job = await app.handlers['jobs.start']({
        kind: `analysis.${kind}`,
        params: {
          model: 'tiny-mixtral',
          calibration: CAL,
          ...(kind === 'similarity' ? { ckaTokens: 64 } : {}),
        },
      });
      const done = await app.waitForJob(job.jobId);
      expect(done.state).toBe('succeeded');
      await page.goto(`${server.url.split('#')[0]}#/runs/${done.runId}`);
      await page.getByTestId(`analysis-${kind}`).waitFor();
      if (kind === 'similarity') {
        await page.getByTestId('cka-heatmap').waitFor();
        expect(await page.locator('[data-testid=cosine-heatmap] [data-cell]').count()).toBe(64);
      } else {
        await page.locator(`[data-testid=analysis-${kind}] svg.recharts-surface`).first().waitFor();
      }
      await shot(`analysis-02-${kind}-run-page`);
    },
  );

  it('draws a per-layer sensitivity run: Δppl bars and the table', async () => {
    const job = await app.handlers['jobs.start']({
      kind: 'analysis.sensitivity',
      params: {
        model: 'tiny-mixtral',
        calibration: CAL,
        method: 'svd-llm',
        ratio: 0.4,
        layers: [0, 3],
        evaluation: { dataset: 'heldout', seqLen: 128, maxWindows: 2 },
      },
    });
    const done = await app.waitForJob(job.jobId);
    expect(done.state).toBe('succeeded');
    await page.goto(`${server.url.split('#')[0]}#/runs/${done.runId}`);
    const table = page.getByRole('table', { name: 'Per-layer sensitivity' });
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.textContent()).toContain('rank');
    await page.locator('[data-testid=analysis-sensitivity] svg.recharts-surface').waitFor();
    await shot('analysis-03-sensitivity-run-page');
  });

  it('raised no console or page errors', () => {
    expect(problems).toEqual([]);
  });
});
