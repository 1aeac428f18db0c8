// Comparable by construction, in a real browser against the real server, store and engine worker:
// a baseline evaluated under one protocol and a compressed run evaluated under another → the
// comparison warns and shows no perplexity delta → one click evaluates the matched baseline (the
// source model under the run's protocol) → it becomes the baseline and the delta is the exact
// (ppl_run − ppl_matched) / ppl_matched of the stored metrics. Any console error fails it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { primaryPplProtocol, protocolKey } from '../../src-main/contract/protocol';
import { type RunningServer, startServer } from '../../src-main/server/index';
import { type Browser, hasChromium, launchChromium } from './chromium';
import { builtRenderer } from './renderer-setup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, 'test-results', 'screenshots');

describe.skipIf(!hasChromium)(
  'comparable by construction: protocol warning → matched baseline → delta',
  () => {
    let tmp: string;
    let text: string;
    let app: WorkbenchApp;
    let server: RunningServer;
    let browser: Browser;
    let page: Page;
    let baselineId = 0;
    let compressedId = 0;
    const problems: string[] = [];

    const pplOf = async (id: number) =>
      (await app.handlers['runs.get']({ id })).metrics.find((m) => m.name === 'ppl')!.value;

    beforeAll(async () => {
      const rendererDir = await builtRenderer();
      mkdirSync(SHOTS, { recursive: true });
      tmp = mkdtempSync(path.join(os.tmpdir(), 'moe-e2e-protocol-'));
      // under the app home: a browser-mode client may name files only there (path confinement)
      mkdirSync(path.join(tmp, 'home', 'data'), { recursive: true });
      text = path.join(tmp, 'home', 'data', 'eval.txt');
      writeFileSync(
        text,
        readFileSync(path.join(root, 'resources', 'data', 'heldout', 'c4-heldout.txt'), 'utf8').slice(
          0,
          12_000,
        ),
      );
      app = await createApp({ home: path.join(tmp, 'home'), mode: 'browser' });
      // the baseline under one protocol (seq 32), the compressed run under another (seq 64)
      const base = await app.handlers['jobs.start']({
        kind: 'eval.ppl',
        params: { model: 'tiny-mixtral', evaluations: [{ dataset: text, seqLen: 32, maxWindows: 4 }] },
      });
      expect((await app.waitForJob(base.jobId)).state).toBe('succeeded');
      baselineId = base.runId!;
      const comp = await app.handlers['pipelines.run']({
        config: {
          version: 2,
          name: 'svd-20-protocol',
          model: 'tiny-mixtral',
          calibration: { dataset: 'calib', samples: 4, seqLen: 32, seed: 3 },
          target: { ratio: 0.2 },
          steps: [{ method: 'svd', params: {} }],
          evaluate: { ppl: { dataset: text, seqLen: 64, maxWindows: 4 } },
        },
      });
      const done = await app.waitForJob(comp.jobId);
      expect(done.error).toBeNull();
      compressedId = comp.runId!;
      server = await startServer(app, { port: 0, rendererDir });
      browser = await launchChromium();
      page = await browser.context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      await page.goto(`${server.url}#/compare?runs=${baselineId},${compressedId}&baseline=${baselineId}`);
    }, 900_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await app?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    const cell = async (runId: number, column: string) => {
      const table = page.getByRole('table', { name: 'Compared metrics' });
      const headers = (await table.locator('thead th').allTextContents()).map((h) => h.trim());
      const row = table
        .locator('tbody tr')
        .filter({ hasText: `#${runId}` })
        .first();
      return (await row.locator('td').nth(headers.indexOf(column)).textContent())?.trim();
    };

    it('warns that the runs were evaluated differently and shows no perplexity delta', async () => {
      const warning = page.getByTestId('protocol-warning');
      await warning.waitFor();
      expect(await warning.textContent()).toContain('seq 32');
      expect(await warning.textContent()).toContain(`#${compressedId}`);
      expect(await warning.textContent()).toContain('seq 64');
      expect(await cell(compressedId, 'ppl Δ')).toBe('—');
      // values read in their units; the eval baseline records no parameter count, so no delta there
      expect(await cell(compressedId, 'paramsAfter')).toMatch(/^\d+\.\d\dM$/);
      expect(await cell(compressedId, 'peakRssBytes')).toMatch(/^\d+\.\d MiB$/);
      await shot('30-compare-protocol-warning');
    });

    it('one click evaluates the matched baseline, which becomes the baseline, and the delta is exact', async () => {
      await page.getByRole('button', { name: 'Evaluate the baseline under this protocol' }).click();
      await page.waitForURL(/baseline=\d+/, { timeout: 120_000 });
      await page.waitForFunction((old) => !window.location.hash.includes(`baseline=${old}`), baselineId, {
        timeout: 120_000,
      });
      const matchedId = Number(/baseline=(\d+)/.exec(page.url())![1]);
      expect(matchedId).toBeGreaterThan(compressedId);
      const matched = await app.handlers['runs.get']({ id: matchedId });
      const compressed = await app.handlers['runs.get']({ id: compressedId });
      expect(matched).toMatchObject({ kind: 'eval.ppl', status: 'succeeded', modelName: 'tiny-mixtral' });
      expect(protocolKey(primaryPplProtocol(matched.kind, matched.config)!)).toBe(
        protocolKey(primaryPplProtocol(compressed.kind, compressed.config)!),
      );
      const [pRun, pMatched, pOther] = [
        await pplOf(compressedId),
        await pplOf(matchedId),
        await pplOf(baselineId),
      ];
      expect(pMatched).not.toBeCloseTo(pOther, 3); // another protocol is another number
      const want = `${pRun >= pMatched ? '+' : ''}${(((pRun - pMatched) / pMatched) * 100).toFixed(1)}%`;
      await page.getByRole('table', { name: 'Compared metrics' }).locator('tbody tr').nth(2).waitFor();
      expect(await cell(compressedId, 'ppl Δ')).toBe(want);
      // the first baseline is now the odd one out: listed, its delta withheld
      expect(await page.getByTestId('protocol-warning').textContent()).toContain(`#${baselineId}`);
      expect(await cell(baselineId, 'ppl Δ')).toBe('—');
      console.log(
        `[e2e] matched delta: run #${compressedId} ppl ${pRun.toFixed(4)} vs matched #${matchedId} ${pMatched.toFixed(4)} → ${want} (other-protocol baseline ${pOther.toFixed(4)})`,
      );
      await shot('31-compare-matched-baseline');

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      const csv = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\r\n');
      const cols = csv[0]!.split(',');
      const fin = csv.find((l) => l.startsWith(`#${compressedId} `))!.split(',');
      // full precision in the machine-readable columns
      expect(Number(fin[cols.indexOf('ppl')])).toBe(pRun);
      expect(Number(fin[cols.indexOf('ppl_delta')])).toBeCloseTo((pRun - pMatched) / pMatched, 6);
      expect(problems).toEqual([]);
    }, 180_000);
  },
);
