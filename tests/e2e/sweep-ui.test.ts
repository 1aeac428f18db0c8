// The sweep page in a real browser against the real server and store: a sweep of the pmd-balance
// example (36 points) is seeded straight into the store — points from the real expansion, results
// imported as runs with known perplexities, two points left open — then the page must show its
// progress, the surfaces (simplex per ratio, order sensitivity, best of, best strategy) with every
// cell linking to its run, switch metric, export CSV (exact values) / SVG / PNG, and the sweeps
// list. The best-strategy map is saved to test-results/screenshots. Any console error fails it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { openStore, storePathIn } from '../../src-main/store/index';
import { expandSweep } from '../../src-main/sweep/expand';
import { parseSweepSpec } from '../../src-main/sweep/sweep-spec';
import { type Browser, hasChromium, launchChromium } from './chromium';
import { builtRenderer } from './renderer-setup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-results', 'screenshots');

/** A made-up but structured perplexity: balance (shares near equal) helps, P→D beats D→P. */
function pplOf(ratio: number, order: readonly string[], c: Record<string, number>): number {
  const shares = Object.values(c);
  const imbalance = Math.max(...shares) - Math.min(...shares);
  const orderPenalty = order[0] === 'D' ? 0.75 : 0;
  return 12 + 40 * ratio * (1 + (order.length === 1 ? 1 : imbalance)) + orderPenalty + order.length / 100;
}

describe.skipIf(!hasChromium)('sweep page: progress, surfaces, links, exports', () => {
  let tmp: string;
  let app: WorkbenchApp;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let sweepId = 0;
  const ppl = new Map<number, number>(); // run id → stored ppl
  let points = 0;
  const problems: string[] = [];

  beforeAll(async () => {
    const rendererDir = await builtRenderer();
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-sweep-'));
    const home = path.join(tmp, 'home');
    mkdirSync(home, { recursive: true });
    // seed the store before the app opens it: no compute, only what a finished sweep records
    {
      const store = openStore(storePathIn(home));
      const file = path.join(root, 'resources', 'sweeps', 'pmd-balance.json');
      const spec = parseSweepSpec(JSON.parse(readFileSync(file, 'utf8')), file);
      const expanded = expandSweep(spec, file);
      points = expanded.length;
      const s = store.sweeps.create(spec.name, spec, expanded);
      sweepId = s.id;
      store.sweeps.start(s.id, 'local:2', 999_999_999);
      expanded.forEach((p, i) => {
        if (i === 5 || i === 17) return; // left pending: the sweep is resumable
        const value = pplOf(p.ratio, p.order, p.contributions as Record<string, number>);
        const runId = store.sweeps.importRun(
          s.id,
          p.hash,
          {
            kind: 'compress',
            config: p.config,
            modelId: null,
            backend: 'wasm',
            appVersion: 'e2e',
            startedAt: null,
            finishedAt: null,
            seconds: 1 + i / 10,
            metrics: [
              { name: 'ppl', value, dataset: 'wikitext2', unit: null, headline: true },
              { name: 'achievedRatio', value: p.ratio + i / 1e4, dataset: null, unit: 'ratio' },
            ],
            layers: [],
          },
          i % 2 ? 'worker-a' : 'worker-b',
        );
        expect(runId).not.toBeNull();
        ppl.set(runId!, value);
      });
      store.sweeps.finish(s.id, 'cancelled');
      store.close();
    }
    app = await createApp({ home, mode: 'browser' });
    server = await startServer(app, { port: 0, rendererDir });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the sweep with its progress', async () => {
    await page.goto(`${server.url}#/sweeps`);
    const row = page.locator(`[data-testid=sweeps-table] tr[data-sweep="${sweepId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(`${points - 2}/${points}`);
    expect(await row.locator('[data-testid=progress-percent]').textContent()).toBe(
      `${Math.round(((points - 2) / points) * 100)}%`,
    );
    // the example specs are offered for a new sweep
    await page
      .locator('[data-testid=sweep-start] select option', { hasText: 'pmd-balance' })
      .waitFor({ state: 'attached' });
  });

  it('draws every surface, each cell a link to its run with the stored value', async () => {
    await page.goto(`${server.url}#/sweeps/${sweepId}`);
    await page.locator('[data-testid=sweep-strategy-map]').waitFor();
    // per ratio: singles, P+D, M+D, the P→M→D triangle; two order-sensitivity grids
    const surfaces = page.locator('[data-testid=sweep-surface]');
    expect(await surfaces.count()).toBe(2 * 4 + 2);
    expect(await page.locator('[data-surface="order-P-D"]').count()).toBe(1);
    const tri = page.locator('[data-surface="simplex-r0.2-P-M-D"]');
    expect(await tri.locator('[data-cell]').count()).toBe(3);
    // every heatmap cell links to a stored run; its tooltip has the stored value
    const links = page.locator('[data-testid=sweep-surface] a[data-run]');
    const n = await links.count();
    expect(n).toBeGreaterThan(20);
    for (let i = 0; i < n; i += 7) {
      const a = links.nth(i);
      const run = Number(await a.getAttribute('data-run'));
      expect(await a.getAttribute('href')).toBe(`#/runs/${run}`);
      const fig = await a.evaluate((el) => el.closest('figure')!.getAttribute('data-kind'));
      if (fig !== 'order-sensitivity')
        expect(await a.locator('title').textContent()).toContain(String(ppl.get(run)));
    }
    // the best strategy per level: one row per ratio, linked to the winning run (the lowest stored ppl)
    const rows = page.locator('[data-testid=sweep-strategy-map] a[data-ratio]');
    expect(await rows.count()).toBe(2);
    await page
      .locator('[data-testid=sweep-strategy-map] svg')
      .screenshot({ path: path.join(SHOTS, 'sweep-best-strategy.png') });
    await page.screenshot({ path: path.join(SHOTS, 'sweep-page.png'), fullPage: true });
  });

  it('exports a surface as CSV with the exact stored values, and as SVG and PNG', async () => {
    const fig = page.locator('[data-surface="simplex-r0.2-P-D"]');
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      fig.getByRole('button', { name: 'CSV' }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe('simplex-r0.2-P-D.csv');
    const lines = readFileSync((await csv.path())!, 'utf8')
      .trim()
      .split(/\r\n/);
    const head = lines[0]!.split(',');
    expect(head).toEqual(['ratio', 'order', 'c_P', 'c_D', 'ppl', 'run']);
    expect(lines.length).toBeGreaterThan(4);
    for (const l of lines.slice(1)) {
      const f = l.split(',');
      expect(Number(f[4])).toBe(ppl.get(Number(f[5])));
    }
    const [svg] = await Promise.all([
      page.waitForEvent('download'),
      fig.getByRole('button', { name: 'SVG' }).click(),
    ]);
    const svgText = readFileSync((await svg.path())!, 'utf8');
    expect(svgText).toContain('<svg');
    expect(svgText).toContain('xmlns="http://www.w3.org/2000/svg"');
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      fig.getByRole('button', { name: 'PNG' }).click(),
    ]);
    const bytes = readFileSync((await png.path())!);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.length).toBeGreaterThan(1000);
  });

  it('switches the metric and downloads the sweep report', async () => {
    await page.getByLabel('Metric').selectOption('achievedRatio');
    await page.locator('[data-testid=sweep-strategy-map] svg[aria-label*="achievedRatio"]').waitFor();
    const [rep] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Report HTML' }).click(),
    ]);
    expect(rep.suggestedFilename()).toBe(`report-sweep-${sweepId}-achievedRatio.html`);
    const html = readFileSync((await rep.path())!, 'utf8');
    expect(html).toContain('<section id="best-strategy">');
    expect(problems).toEqual([]);
  });
});
