// The HTML report in a real browser: opened from disk (file://, no server), it raises no console
// error and no CSP violation (so nothing was fetched and no script ran), every section is shown
// with its charts, for one run and for a comparison with every analysis kind. Screenshots go to
// test-results/screenshots like the other e2e tests'.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src-main/app/report/index';
import { SECTIONS } from '../../src-main/app/report/report-text';
import type { RunDetail } from '../../src-main/contract/index';
import { analysisRuns, baselineRun, compressedRun } from '../support/report-runs';
import { type Browser, hasChromium, launchChromium } from './chromium';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = path.join(root, 'test-results');
const SHOTS = path.join(OUT, 'screenshots');

describe.skipIf(!hasChromium)('HTML report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  const cases: { name: string; runs: () => RunDetail[]; svgs: number }[] = [
    { name: 'report-single-run', runs: () => [compressedRun()], svgs: 3 },
    { name: 'report-comparison', runs: () => [baselineRun(), compressedRun(), ...analysisRuns()], svgs: 12 },
  ];
  for (const c of cases) {
    it(`${c.name}: no console errors, every section visible`, async () => {
      const file = path.join(OUT, `${c.name}.html`);
      writeFileSync(file, renderReport(c.runs(), 'html').content);
      const page = await browser.context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (!r.url().startsWith('file://')) requests.push(r.url());
      });
      await page.goto(`file://${file}`);
      await page.waitForLoadState('load');
      for (const s of SECTIONS) {
        const h = page.locator(`section#${s.id} > h2`);
        await expect(h.isVisible()).resolves.toBe(true);
        expect(await h.textContent()).toBe(s.title);
        const box = await page.locator(`section#${s.id}`).boundingBox();
        expect(box!.height).toBeGreaterThan(40);
      }
      expect(await page.locator('svg').count()).toBeGreaterThanOrEqual(c.svgs);
      expect(await page.locator('section#metrics table tr').count()).toBeGreaterThan(3);
      await page.screenshot({ path: path.join(SHOTS, `${c.name}.png`), fullPage: true });
      await page.close();
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    }, 60_000);
  }
});
