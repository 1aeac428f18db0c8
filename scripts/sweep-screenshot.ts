// Screenshots of a stored sweep's page, for notes: the best-strategy map (and the whole page) of
// sweep ID in the store under HOME, through the real server in headless Chromium.
//   npx tsx scripts/sweep-screenshot.ts --home DIR [--sweep ID] [--metric ppl] [--out DIR]
// ID defaults to the newest sweep; files: <out>/sweep-<id>-best-strategy.png, sweep-<id>-page.png
// (default out: test-results/screenshots, the e2e artifacts folder).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createApp } from '../src-main/app/create-app';
import { startServer } from '../src-main/server/index';
import { ensureRendererBuilt } from '../src-main/server/renderer-build';

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    sweep: { type: 'string' },
    metric: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.home) throw new Error('--home DIR is required (the app home whose store holds the sweep)');
const out = path.resolve(values.out ?? 'test-results/screenshots');
fs.mkdirSync(out, { recursive: true });

const rendererDir = await ensureRendererBuilt({ log: (l) => console.error(l) });
const app = await createApp({ home: values.home, mode: 'browser' });
const server = await startServer(app, { port: 0, rendererDir });
const browser = await chromium.launch({
  executablePath: process.env.MOE_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const list = await app.handlers['sweeps.list']({});
  const id = values.sweep ? Number(values.sweep) : list[0]?.id;
  if (!id || !list.some((s) => s.id === id))
    throw new Error(
      `no sweep ${values.sweep ?? ''} in ${values.home}; it has ${list.map((s) => s.id).join(', ') || 'none'}`,
    );
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}#/sweeps/${id}`);
  await page.locator('[data-testid=sweep-strategy-map]').waitFor();
  if (values.metric) {
    await page.getByLabel('Metric').selectOption(values.metric);
    await page.locator(`[data-testid=sweep-strategy-map] svg[aria-label*="${values.metric}"]`).waitFor();
  }
  const map = path.join(out, `sweep-${id}-best-strategy.png`);
  await page.locator('[data-testid=sweep-strategy-map] svg').screenshot({ path: map });
  await page.screenshot({ path: path.join(out, `sweep-${id}-page.png`), fullPage: true });
  console.log(map);
} finally {
  await browser.close();
  await server.close();
  await app.close();
}
