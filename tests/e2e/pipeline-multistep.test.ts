// Multi-step pipelines in the real UI against the real server, store and engine declarations:
// build expert-prune → svd-llm in the graph (the JSON follows), watch the live plan and the
// contribution sliders, reorder and remove steps, see an unreachable budget explained inline; then
// a stored two-step run's per-step heatmaps (removed experts marked) and its comparison (step
// sequence, recorded target). Any console error fails it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { openStore } from '../../src-main/store/index';
import { type Browser, hasChromium, launchChromium } from './chromium';
import { builtRenderer } from './renderer-setup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-results', 'screenshots');
declare function editorText(): string;

describe.skipIf(!hasChromium)('multi-step pipelines: editor, live plan, budget, per-step runs', () => {
  let tmp: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const runIds: number[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    const rendererDir = await builtRenderer();
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-multistep-'));
    // the bundled models and data sets are registered: the draft uses the first model, calib data
    app = await createApp({ home: path.join(tmp, 'home'), mode: 'browser' });
    server = await startServer(app, { port: 0, rendererDir });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.addInitScript(() => {
      (window as unknown as { editorText: () => string }).editorText = () =>
        (document.querySelector('.monaco-editor .view-lines')?.textContent ?? '').replace(/\u00a0/g, ' ');
    });
    await page.goto(`${server.url}#/pipelines`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const graph = () => page.getByTestId('pipeline-graph');
  const validity = () => page.getByTestId('config-validity');
  const planRows = () => page.getByRole('table', { name: 'Pipeline plan' }).locator('tbody tr');
  const go = (hash: string) =>
    page.evaluate((h) => {
      window.location.hash = h;
    }, hash);

  it('lists the methods by family, and the new draft calibrates on calib (a registered data set)', async () => {
    const methods = await app.handlers['methods.list']({});
    expect(methods.map((m) => m.id)).toEqual(expect.arrayContaining(['expert-prune', 'svd-llm']));
    await graph().locator('[data-stage="step-0"]').waitFor();
    await validity().getByText('valid').waitFor();
    const groups = await page
      .getByLabel('Method to add')
      .locator('optgroup')
      .evaluateAll((gs) => gs.map((g) => g.getAttribute('label')));
    expect(groups).toEqual(expect.arrayContaining(['P · expert pruning', 'D · low-rank decomposition']));

    await graph().locator('[data-stage="calibration"]').click();
    const dataset = page.getByRole('region', { name: 'Calibration settings' }).getByLabel('Dataset');
    expect(await dataset.inputValue()).toBe('calib');
    // the rest of the section comes from the config schema (a union of versions)
    await page.getByRole('region', { name: 'Calibration settings' }).getByLabel('Samples').waitFor();
    const options = await dataset
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(expect.arrayContaining(['calib', 'heldout', 'wikitext2']));
    await graph().locator('[data-stage="calibration"]').getByText('calib · 32×256').waitFor();
  });

  it('builds expert-prune → svd-llm in the graph; the JSON, the nodes and the live plan follow', async () => {
    // add svd-llm after the first step, then make the first step expert-prune
    await page.getByLabel('Method to add').selectOption('svd-llm');
    await graph().locator('[data-stage="step-0"]').click();
    await page.getByRole('button', { name: 'Add step', exact: true }).click();
    await graph().locator('[data-stage="step-1"]').waitFor();
    await graph().locator('[data-stage="step-0"] .stage-button').click();
    await page
      .getByRole('region', { name: /settings$/ })
      .getByLabel('Step method')
      .selectOption('expert-prune');
    await page.waitForFunction(() => /"expert-prune"[\s\S]*"svd-llm"/.test(editorText()));
    expect(await page.evaluate(() => editorText())).toContain('"version": 2');

    // the live plan: one row per step with its knob, the totals on target
    await validity().getByText('valid').waitFor();
    await expect.poll(() => planRows().count()).toBe(2);
    expect(await planRows().nth(0).textContent()).toMatch(/budget share 50%.*expertsRemoved \d+/);
    expect(await planRows().nth(1).textContent()).toMatch(/budget share 50%.*rank \d+/);
    expect(await page.getByTestId('plan-totals').textContent()).toMatch(
      /target 20\.0% \(± [\d.]+%\).*\d\.\d+M → \d\.\d+M.*(19|20)\.\d%/,
    );
    await graph()
      .locator('[data-stage="step-0"] [data-testid="stage-planned"]')
      .getByText(/expertsRemoved \d+ →/)
      .waitFor();
    await graph()
      .locator('[data-stage="step-1"] [data-testid="stage-planned"]')
      .getByText(/rank \d+ → (19|20)\.\d%/)
      .waitFor();
    await shot('30-multistep-plan');
  });

  it('contribution sliders keep the shares at 1 and re-plan', async () => {
    const before = await planRows().nth(0).textContent();
    const p = page.getByRole('slider', { name: /expert pruning/ });
    const d = page.getByRole('slider', { name: /low-rank decomposition/ });
    expect(await p.inputValue()).toBe('0.5');
    await p.fill('0.3');
    await page.getByTestId('share-D').getByText('70%').waitFor();
    expect(await d.inputValue()).toBe('0.7');
    await page.waitForFunction(() => /"contributions": \{\s*"P": 0\.3,\s*"D": 0\.7\s*\}/.test(editorText()));
    await expect.poll(async () => (await planRows().nth(0).textContent()) !== before).toBe(true);
    expect(await planRows().nth(0).textContent()).toMatch(/budget share 30%/);
    await validity().getByText('valid').waitFor();
  });

  it('reorders steps in the graph and the JSON follows; an unreachable budget is explained inline', async () => {
    await page.getByRole('button', { name: 'Move step 2 earlier' }).click();
    await page.waitForFunction(() => /"svd-llm"[\s\S]*"expert-prune"/.test(editorText()));
    await graph().locator('[data-stage="step-0"]').getByText('1. SVD-LLM').waitFor();
    await page.getByRole('button', { name: 'Move step 1 later' }).click();
    await page.waitForFunction(() => /"expert-prune"[\s\S]*"svd-llm"/.test(editorText()));

    const ratio = page.getByTestId('budget-panel').getByLabel('Target ratio');
    await ratio.fill('0.9');
    const problem = page.getByTestId('plan-problem');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/reachable ratio with these steps is 0\.\d+/);
    await validity().getByText('1 problem').waitFor();
    expect(await ratio.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole('list', { name: 'Config problems' }).textContent()).toMatch(
      /target\.ratio.*reachable/,
    );
    await shot('31-multistep-budget-error');

    // back to a reachable budget, then remove the pruning step
    await ratio.fill('0.2');
    await validity().getByText('valid').waitFor();
    await page.getByRole('button', { name: 'Remove step 1' }).click();
    await expect.poll(() => graph().getAttribute('data-steps')).toBe('1');
    await page.waitForFunction(() => !editorText().includes('"expert-prune"'));
    // the contributions followed: only D is left, with the whole budget
    await page.waitForFunction(() => /"contributions": \{\s*"D": 1\s*\}/.test(editorText()));
    await validity().getByText('valid').waitFor();
    await expect.poll(() => planRows().count()).toBe(1);
  });

  it('shows a stored two-step run per step: removed experts on the heatmap, kept counts, the sequence', async () => {
    const store = openStore(app.storePath);
    try {
      const models = await app.handlers['models.list']({});
      const cfg = (name: string, ratio: number) => ({
        config: {
          version: 2,
          name,
          model: models[0]!.path,
          calibration: { dataset: 'calib', samples: 4, seqLen: 32, seed: 3, batch: 8 },
          target: { ratio: 0.2 },
          steps: [
            { method: 'expert-prune', params: {} },
            { method: 'svd-llm', params: { ratio } },
          ],
        },
        outDir: '/tmp/none',
      });
      for (const [name, ratio] of [
        ['prune-then-svd', 0.4],
        ['prune-then-svd-b', 0.3],
      ] as const) {
        const r = store.runs.create({ kind: 'compress', config: cfg(name, ratio), appVersion: 'e2e' });
        store.runs.markRunning(r.id);
        for (const layer of [0, 1]) {
          const removed = layer === 0 ? [1, 4] : [6];
          const kept = [0, 1, 2, 3, 4, 5, 6, 7].filter((e) => !removed.includes(e));
          store.runs.recordLayer(
            r.id,
            layer,
            {
              method: 'expert-prune',
              metric: 'activation_frequency',
              scores: [0.3, 0.02, 0.2, 0.15, 0.01, 0.12, 0.03, 0.09].map((s) => s * (layer + 1)),
              removed,
              kept,
              removedIndex: removed,
              expertsBefore: 8,
              expertsAfter: kept.length,
              topK: 2,
            },
            0.2,
            0,
          );
        }
        for (const layer of [0, 1])
          store.runs.recordLayer(
            r.id,
            layer,
            {
              method: 'svd-llm',
              rank: 30,
              tokens: layer === 0 ? [40, 20, 0, 30, 10, 5] : [9, 8, 7, 6, 5, 4, 3],
              relError: { gate: 0.1, up: 0.12, down: 0.2 },
            },
            0.5,
            1,
          );
        store.runs.recordMetric(r.id, { name: 'targetRatio', value: ratio, dataset: null, unit: null });
        store.runs.recordMetric(r.id, {
          name: 'achievedRatio',
          value: ratio + 0.001,
          dataset: null,
          unit: null,
        });
        store.runs.recordMetric(r.id, {
          name: 'ppl',
          value: 200 + ratio * 100,
          dataset: 'heldout',
          unit: null,
        });
        store.runs.finish(r.id, 'succeeded');
        runIds.push(r.id);
      }
    } finally {
      store.close();
    }

    await go(`#/runs/${runIds[0]}`);
    await page.getByTestId('run-step-sequence').getByText('expert-prune → svd-llm').waitFor();
    const tabs = page.getByRole('tablist', { name: 'Pipeline steps' });
    await tabs.getByRole('tab', { name: '1. expert-prune' }).click();
    const heatmap = page.getByTestId('expert-heatmap');
    await heatmap.waitFor();
    expect(
      await heatmap
        .locator('g[data-removed]')
        .evaluateAll((gs) =>
          gs.map((g) => `${g.getAttribute('data-layer')}:${g.getAttribute('data-expert')}`),
        ),
    ).toEqual(['0:1', '0:4', '1:6']);
    expect(await heatmap.getByLabel('Statistic').inputValue()).toBe('score');
    expect(await page.getByTestId('kept-0').textContent()).toBe('6/8');
    expect(await page.getByTestId('kept-1').textContent()).toBe('7/8');
    await heatmap.getByText('removed by this step (3)').waitFor();
    expect(
      await page
        .getByRole('table', { name: 'Per-layer statistics' })
        .locator('tbody tr')
        .first()
        .textContent(),
    ).toMatch(/expert-prune.*activation_frequency.*8 → 6.*1, 4/);
    await shot('32-run-step-prune');

    await tabs.getByRole('tab', { name: '2. svd-llm' }).click();
    await heatmap.getByText('removed by an earlier step (3)').waitFor();
    expect(await heatmap.locator('g[data-gone]').count()).toBe(3);
    // layer 0's current experts are originals 0, 2, 3, 5, 6, 7: the zero-token one is original 3
    expect(
      await heatmap
        .locator('g[data-zero-tokens]')
        .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-expert'))),
    ).toEqual(['3']);
    await shot('33-run-step-lowrank');
  });

  it('compares the two runs: step sequences and the recorded target', async () => {
    await go(`#/compare?runs=${runIds.join(',')}`);
    const metrics = page.getByRole('table', { name: 'Compared metrics' });
    await metrics.waitFor();
    const first = metrics
      .locator('tbody tr')
      .filter({ hasText: `#${runIds[0]} prune-then-svd` })
      .first();
    expect(await first.textContent()).toContain('expert-prune → svd-llm');
    // the recorded targetRatio (the step's own 40%), not config.target.ratio (20%), shown in its
    // unit (a ratio reads as a percentage; exports keep the raw 0.4)
    const cols = await metrics.locator('thead th').allTextContents();
    const cells = await first.locator('td').allTextContents();
    expect(cells[cols.indexOf('targetRatio')]).toBe('40.0%');
    await shot('34-compare-steps');
  });

  it('raised no console or page errors', () => {
    expect(problems).toEqual([]);
  });
});
