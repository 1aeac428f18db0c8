// The workbench's main flow in a real browser against the real server, store and engine worker:
// add and inspect a model (and see a broken one refused), preview a data set, build a pipeline in
// the graph and watch the Monaco view follow (and the reverse), save and duplicate it, run it twice
// (cancel one, let one finish), open the per-layer heatmap, page through 500 stored runs, compare
// the finished run with a baseline and export the comparison as CSV. Any console error fails it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { openStore } from '../../src-main/store/index';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';
import { type Browser, hasChromium, launchChromium } from './chromium';
import { builtRenderer } from './renderer-setup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-results', 'screenshots');
const GENERATED_RUNS = 500;
declare function editorText(): string;

describe.skipIf(!hasChromium)('workbench flow: models → pipeline → runs → compare', () => {
  let tmp: string;
  let modelDir: string;
  let dataDir: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let finishedRunId = 0;
  let baselineRunId = 0;
  const problems: string[] = [];

  beforeAll(async () => {
    const rendererDir = await builtRenderer();
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-flow-'));
    modelDir = path.join(tmp, 'tiny-mixtral-e2e');
    writeTinyCheckpoint(modelDir, { arch: 'mixtral', layers: 2 });
    const broken = path.join(tmp, 'broken-model');
    mkdirSync(broken);
    writeFileSync(
      path.join(broken, 'config.json'),
      JSON.stringify({ model_type: 'not_a_moe', architectures: ['Nope'] }),
    );
    // browser mode reads client-named files only inside the home and the allowed roots
    // (`serve --allow-root`): the data file lies in one, a second file outside them all
    dataDir = path.join(tmp, 'data');
    mkdirSync(dataDir);
    writeFileSync(
      path.join(dataDir, 'notes.txt'),
      'The quick brown fox.\nJumps over the lazy dog.\n\nA third line of text.\n',
    );
    writeFileSync(path.join(tmp, 'outside.txt'), 'Not for this client.\n');
    // the model folders too: models.add is confined like every other client-named path
    app = await createApp({
      home: path.join(tmp, 'home'),
      mode: 'browser',
      allowedRoots: [dataDir, modelDir, broken],
    });
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
    await page.goto(`${server.url}#/models`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const go = async (hash: string) => {
    await page.evaluate((h) => {
      window.location.hash = h;
    }, hash);
  };

  it('adds a model folder and shows its inspect summary and per-layer table; a broken folder gets a clear error', async () => {
    await page.getByLabel('Model folder path').fill(modelDir);
    await page.getByRole('button', { name: 'Add model' }).click();
    await page.getByRole('heading', { name: 'Inspect: tiny-mixtral-e2e' }).waitFor();
    const summary = page.getByLabel('Model summary');
    await summary.getByText('MixtralForCausalLM (mixtral)').waitFor();
    expect(await summary.textContent()).toMatch(/Top-k2/);
    expect(await summary.textContent()).toMatch(/Experts \/ layer4/);
    expect(await page.getByRole('table', { name: 'Model layers' }).locator('tbody tr').count()).toBe(2);
    await shot('10-models-inspect');

    // refused at add time (not listed, then failing on inspect): the engine's own check, in words
    await page.getByLabel('Model folder path').fill(path.join(tmp, 'broken-model'));
    await page.getByRole('button', { name: 'Add model' }).click();
    const err = page.getByRole('alert').filter({ hasText: 'cannot be used as a model' });
    await err.waitFor();
    expect(await err.textContent()).toContain('unsupported model_type "not_a_moe"');
    expect(await page.getByRole('button', { name: 'Remove model broken-model' }).count()).toBe(0);
  });

  it('adds a data file, previews its first rows and counts its tokens with the model tokenizer', async () => {
    await go('#/datasets');
    // outside the allowed roots: refused in words on the form, nothing added
    const outside = path.join(tmp, 'outside.txt');
    await page.getByLabel('Data file path').fill(outside);
    await page.getByRole('button', { name: 'Add data set' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'outside the folders this client may use' });
    await refused.waitFor();
    expect(await refused.textContent()).toContain(outside);
    expect(await refused.textContent()).toContain('--allow-root');
    expect((await app.handlers['datasets.list']({})).some((d) => d.path.endsWith('outside.txt'))).toBe(false);

    await page.getByLabel('Data file path').fill(path.join(dataDir, 'notes.txt'));
    await page.getByRole('button', { name: 'Add data set' }).click();
    await refused.waitFor({ state: 'detached' });
    const rows = page.getByRole('list', { name: 'First rows' });
    await rows.getByText('The quick brown fox.').waitFor();
    expect(await rows.locator('li').count()).toBe(3);
    await page.getByLabel('Count tokens with').selectOption({ label: 'tiny-mixtral-e2e' });
    const tokens = page.getByTestId('dataset-tokens');
    await tokens.waitFor();
    expect(Number((await tokens.textContent())!.replace(/,/g, ''))).toBeGreaterThan(10);
    await shot('11-datasets-preview');
  });

  it('builds a pipeline in the graph, the JSON view follows, invalid values block Run, JSON edits update the graph', async () => {
    await go('#/pipelines');
    const graph = page.getByTestId('pipeline-graph');
    await graph.locator('[data-stage="model"]').waitFor();
    const editor = page.locator('.monaco-editor .view-lines');
    await editor.waitFor();

    await graph.locator('[data-stage="model"]').click();
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'tiny-mixtral-e2e' });
    await page.getByLabel('Pipeline name').fill('e2e-svd');
    await graph.locator('[data-stage="calibration"]').click();
    await page.getByLabel('Samples').fill('4');
    await page.getByLabel('Seq len').fill('32');
    await graph.locator('[data-stage="evaluate"]').click();
    await page.getByLabel('Seq len').fill('32');
    await page.getByLabel('Max windows').fill('2');
    await graph.locator('[data-stage="calibration"]').getByText('calib · 4×32').waitFor();
    await page.waitForFunction(() => editorText().includes('"name": "e2e-svd"'));
    expect(await page.evaluate(() => editorText())).toContain('"samples": 4');
    await page.getByTestId('config-validity').getByText('valid').waitFor();
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isEnabled()).toBe(true);

    // an out-of-range value: inline error on the field, the node is marked, Run is disabled
    await graph.locator('[data-stage="step-0"]').click();
    await page.getByLabel('Rank', { exact: true }).fill('0');
    await page.getByTestId('config-validity').getByText('1 problem').waitFor();
    await page.locator('.form-row.has-issue').getByRole('alert').waitFor();
    expect(await graph.locator('[data-stage="step-0"].has-issue').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    await shot('12-pipeline-invalid');
    await page.getByLabel('Rank', { exact: true }).fill('');
    await page.getByTestId('config-validity').getByText('valid').waitFor();

    // the other direction: edit the JSON text with the keyboard, the graph follows
    expect(await page.evaluate(() => editorText())).toContain('"ratio": 0.2');
    await page.locator('.monaco-editor .view-line span span', { hasText: /^0\.2$/ }).click();
    await page.keyboard.press('End');
    await page.keyboard.type('x');
    await page.getByTestId('config-validity').getByText('1 problem').waitFor();
    await page
      .getByRole('list', { name: 'Config problems' })
      .getByText(/not valid JSON/)
      .waitFor();
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('3');
    await graph.locator('[data-stage="model"]').getByText('tiny-mixtral-e2e · target 30%').waitFor();
    await page.getByTestId('config-validity').getByText('valid').waitFor();
    await shot('13-pipeline-editor');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText('Saved “e2e-svd”.').waitFor();
    await page.getByRole('button', { name: 'Duplicate' }).click();
    await page.getByRole('status').getByText('Duplicated as “e2e-svd copy”.').waitFor();
    const saved = await app.handlers['pipelines.list']({});
    expect(saved.map((p) => p.name)).toEqual(['e2e-svd', 'e2e-svd copy']);
  });

  it('starts a slow run from the copy, shows live progress and cancels it', async () => {
    // the copy is open: make it slow enough to cancel mid-way
    const graph = page.getByTestId('pipeline-graph');
    await graph.locator('[data-stage="calibration"]').click();
    await page.getByLabel('Samples').fill('256');
    await page.getByLabel('Seq len').fill('256');
    await graph.locator('[data-stage="calibration"]').getByText('calib · 256×256').waitFor();
    await page.getByTestId('config-validity').getByText('valid').waitFor();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.getByTestId('job-step').waitFor({ timeout: 60_000 });
    await page.getByLabel('Job progress').waitFor();
    const cancel = page.getByRole('button', { name: 'Cancel run' });
    await expect.poll(() => cancel.isEnabled()).toBe(true);
    await shot('14-run-progress');
    await cancel.click();
    await page.locator('.run-header .status-cancelled').waitFor({ timeout: 60_000 });
    const runId = Number(page.url().split('/').pop());
    expect((await app.handlers['runs.get']({ id: runId })).status).toBe('cancelled');
  });

  it('runs the saved pipeline to the end and shows metrics, the per-layer heatmap and table', async () => {
    await go('#/pipelines');
    await page.getByRole('button', { name: 'e2e-svd', exact: true }).click();
    await page
      .getByTestId('pipeline-graph')
      .locator('[data-stage="calibration"]')
      .getByText('calib · 4×32')
      .waitFor();
    await page.getByTestId('config-validity').getByText('valid').waitFor();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    finishedRunId = Number(page.url().split('/').pop());
    await page.locator('.run-header .status-succeeded').waitFor({ timeout: 120_000 });
    const metrics = page.getByLabel('Headline metrics');
    await metrics.getByText('Perplexity').waitFor();
    expect(await metrics.textContent()).toMatch(/Achieved ratio\d+(\.\d)?%/);
    const heatmap = page.getByTestId('expert-heatmap');
    await heatmap.waitFor();
    expect(await heatmap.locator('g[data-expert]').count()).toBe(2 * 4);
    expect(await heatmap.getByRole('img').getAttribute('aria-label')).toMatch(/2 layers × 4 experts/);
    await heatmap.locator('g[data-layer="1"][data-expert="2"] rect').first().hover();
    expect(await page.getByTestId('heatmap-hover').textContent()).toMatch(/^layer 1, expert 2: \d+(\.\d)?%/);
    await heatmap.getByLabel('Statistic').selectOption('relError');
    expect(await page.getByRole('table', { name: 'Per-layer statistics' }).locator('tbody tr').count()).toBe(
      2,
    );
    await shot('15-run-heatmap');
  });

  it('lists hundreds of runs quickly: windowed rows, sort and filter', async () => {
    const store = openStore(app.storePath);
    try {
      store.db.transaction(() => {
        for (let i = 0; i < GENERATED_RUNS; i++) {
          const baseline = i === 0;
          const cfg = {
            config: {
              version: 1,
              name: baseline ? 'baseline-dense' : `sweep-${i}`,
              model: modelDir,
              calibration: { dataset: 'wikitext2', samples: 4, seqLen: 32, seed: 3 },
              target: { ratio: baseline ? 0.05 : (i % 9) / 10 },
              steps: [{ method: i % 2 ? 'svd' : 'asvd', params: {} }],
              // the protocol the editor-built run below evaluates under: its ppl delta is a delta
              evaluate: { ppl: { dataset: 'wikitext2', seqLen: 32, maxWindows: 2 } },
            },
            outDir: `/tmp/out-${i}`,
          };
          const r = store.runs.create({ kind: 'compress', config: cfg, appVersion: 'e2e' });
          store.runs.markRunning(r.id);
          store.runs.finish(
            r.id,
            i % 17 === 3 ? 'failed' : 'succeeded',
            i % 17 === 3 ? 'synthetic failure' : null,
          );
          store.runs.recordMetric(r.id, {
            name: 'ppl',
            value: baseline ? 300 : 350 + i,
            dataset: 'wikitext2',
            unit: null,
          });
          store.runs.recordMetric(r.id, {
            name: 'paramsAfter',
            value: 150_000 - i * 10,
            dataset: null,
            unit: null,
          });
          store.runs.recordMetric(r.id, {
            name: 'tokensPerSecond',
            value: 1000 + i,
            dataset: null,
            unit: null,
          });
          store.runs.recordMetric(r.id, {
            name: 'peakRssBytes',
            value: 2e8 + i * 1e5,
            dataset: null,
            unit: null,
          });
          for (const layer of [0, 1])
            store.runs.recordLayer(
              r.id,
              layer,
              {
                method: 'svd',
                rank: 30,
                tokens: [40, 20, 0, 30],
                relError: { gate: 0.1, up: 0.1, down: 0.1 },
              },
              0.5,
            );
          if (baseline) baselineRunId = r.id;
        }
      })();
    } finally {
      store.close();
    }
    await go('#/runs');
    const count = page.getByTestId('runs-count');
    const total = (await app.handlers['runs.list']({})).length;
    expect(total).toBe(GENERATED_RUNS + 2);
    await count.getByText(`${total} of ${total} runs`).waitFor();
    const rendered = await page.locator('tr[data-run-id]').count();
    expect(rendered).toBeLessThan(60);
    // scrolling to the end brings the oldest run into the DOM
    await page.getByTestId('runs-scroll').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator('tr[data-run-id="1"]').waitFor();
    await page.getByTestId('runs-scroll').evaluate((el) => {
      el.scrollTop = 0;
    });
    // sort by perplexity, ascending: the baseline (300) comes first
    await page.getByRole('button', { name: 'Perplexity' }).click();
    await page
      .locator('tbody tr[data-run-id]')
      .first()
      .and(page.locator(`[data-run-id="${baselineRunId}"]`))
      .waitFor();
    await page.getByLabel('Status').selectOption('failed');
    const failed = (await app.handlers['runs.list']({ status: 'failed' })).length;
    await count.getByText(`${failed} of ${total} runs`).waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Filter').fill('baseline');
    await count.getByText(`1 of ${total} runs`).waitFor();
    await page.getByLabel(`Select run ${baselineRunId}`).check();
    await page.getByLabel('Filter').fill('e2e-svd succeeded');
    await count.getByText(`1 of ${total} runs`).waitFor();
    await page.getByLabel(`Select run ${finishedRunId}`).check();
    await page.getByLabel('Filter').fill('');
    await count.getByText('2 selected').waitFor();
    await shot('16-runs-list');
  });

  it('compares the finished run with the baseline: charts, deltas, config diff, per-layer deltas, CSV export', async () => {
    await page.getByRole('button', { name: 'Compare selected' }).click();
    await page.waitForURL(/#\/compare\?runs=/);
    await page.getByLabel('Baseline').selectOption({ label: `#${baselineRunId} baseline-dense` });
    await page
      .getByRole('figure', { name: 'Perplexity versus parameters' })
      .locator('.recharts-symbols')
      .first()
      .waitFor();
    expect(
      await page
        .getByRole('figure', { name: 'Tokens per second per run' })
        .locator('.recharts-bar-rectangle')
        .count(),
    ).toBe(2);
    const metrics = page.getByRole('table', { name: 'Compared metrics' });
    const finishedRow = metrics.locator('tbody tr').filter({ hasText: `#${finishedRunId} e2e-svd` });
    expect(await finishedRow.textContent()).toMatch(/[+-]\d+\.\d%/);
    const diff = page.getByRole('table', { name: 'Config differences' });
    await diff.getByText('target.ratio').waitFor();
    expect(await diff.textContent()).not.toContain('calibration.samples'); // same in both: not shown
    expect(await page.getByRole('table', { name: 'Per-layer deltas' }).locator('tbody tr').count()).toBe(2);
    await shot('17-compare');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^moe-compare-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n');
    // the contract's columns in their order (more metrics may join them), the protocol last
    const header = csv[0]!.split(',');
    expect(header.slice(0, 6)).toEqual(['run', 'status', 'baseline', 'steps', 'ppl', 'ppl_delta']);
    for (const c of [
      'paramsAfter_delta',
      'achievedRatio',
      'targetRatio',
      'tokensPerSecond',
      'peakRssBytes_delta',
    ])
      expect(header).toContain(c);
    expect(header.at(-1)).toBe('protocol');
    expect(csv).toHaveLength(3);
    const base = csv.find((l) => l.startsWith(`#${baselineRunId} `))!.split(',');
    expect(base.slice(1, 6)).toEqual(['succeeded', 'yes', 'asvd', '300', '0']);
    const fin = csv.find((l) => l.startsWith(`#${finishedRunId} `))!.split(',');
    const ppl = (await app.handlers['runs.get']({ id: finishedRunId })).metrics.find(
      (m) => m.name === 'ppl',
    )!.value;
    expect(fin[3]).toBe('svd');
    expect(Number(fin[4])).toBeCloseTo(ppl, 6);
    expect(Number(fin[5])).toBeCloseTo((ppl - 300) / 300, 5);
  });

  it('marks experts that saw no calibration tokens, in the dark theme too', async () => {
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    // the stored baseline's layer records give expert 2 zero tokens in both layers
    await go(`#/runs/${baselineRunId}`);
    const heatmap = page.getByTestId('expert-heatmap');
    await heatmap.waitFor();
    expect(await heatmap.locator('g[data-zero-tokens]').count()).toBe(2);
    expect(
      await heatmap
        .locator('g[data-zero-tokens]')
        .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-expert'))),
    ).toEqual(['2', '2']);
    await heatmap.getByText('no calibration tokens (2)').waitFor();
    expect(
      await page
        .getByRole('table', { name: 'Per-layer statistics' })
        .locator('tbody tr')
        .first()
        .locator('td')
        .nth(4)
        .textContent(),
    ).toBe('1');
    await shot('18-run-dark-zero-tokens');
  });

  it('opens a stage form from the keyboard and themes the editor dark', async () => {
    await go('#/pipelines');
    await page.locator('.monaco-editor.vs-dark').waitFor();
    const calibration = page.getByTestId('pipeline-graph').locator('[data-stage="calibration"] button');
    // xyflow keeps a node hidden until it has measured it, and under load the page may still re-render
    // the graph after the button first shows (a focused button replaced, the key press going nowhere):
    // focus, check the focus landed, press Enter, and start over until the form opens
    const samples = page.getByRole('region', { name: 'Calibration settings' }).getByLabel('Samples');
    await calibration.waitFor();
    await vi.waitFor(
      async () => {
        await calibration.focus();
        expect(await calibration.evaluate((b) => b === document.activeElement)).toBe(true);
        await page.keyboard.press('Enter');
        await samples.waitFor({ timeout: 2000 });
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(await calibration.getAttribute('aria-pressed')).toBe('true');
    await shot('19-pipeline-dark');
  });

  it('raised no console or page errors', () => {
    expect(problems).toEqual([]);
  });
});
