// `moe-bench report --sweep ID --format html|md|csv --out F`: a sweep seeded straight into a store
// (the pmd-balance expansion, results imported as runs with known perplexities; no compute) is
// reported with its surfaces as inline SVG, and its CSV carries the stored values exactly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import { openStore, storePathIn } from '../../src-main/store/index';
import { expandSweep } from '../../src-main/sweep/expand';
import { parseSweepSpec } from '../../src-main/sweep/sweep-spec';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-sweep-report-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'moe-bench', ...args, '--home', home], {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

const ppl = new Map<number, number>();
let sweepId = 0;
beforeAll(() => {
  const store = openStore(storePathIn(home));
  const file = path.join(root, 'resources', 'sweeps', 'pmd-balance.json');
  const spec = parseSweepSpec(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  const points = expandSweep(spec, file);
  const s = store.sweeps.create(spec.name, spec, points);
  sweepId = s.id;
  store.sweeps.start(s.id, 'local:1', 999_999_999);
  points.forEach((p, i) => {
    const value = 10 + p.ratio * 50 + i / 3;
    const id = store.sweeps.importRun(
      s.id,
      p.hash,
      {
        kind: 'compress',
        config: p.config,
        modelId: null,
        backend: 'wasm',
        appVersion: 'test',
        startedAt: null,
        finishedAt: null,
        seconds: 1,
        metrics: [{ name: 'ppl', value, dataset: 'wikitext2', unit: null, headline: true }],
        layers: [],
      },
      null,
    );
    ppl.set(id!, value);
  });
  store.sweeps.finish(s.id, 'succeeded');
  store.close();
});

describe('moe-bench report --sweep', () => {
  it('html: every surface as inline SVG, no script', async () => {
    const out = path.join(home, 'sweep.html');
    const r = await cli('report', '--sweep', String(sweepId), '--format', 'html', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out, format: 'html', sweep: sweepId });
    const html = fs.readFileSync(out, 'utf8');
    for (const id of ['summary', 'simplex', 'order', 'best-of', 'best-strategy'])
      expect(html).toContain(`<section id="${id}">`);
    // 2 ratios × (singles, P+D, M+D, P→M→D) + 2 order grids + best of + best strategy
    expect(html.match(/<svg /g)).toHaveLength(12);
    expect(html).not.toMatch(/<script/i);
  });

  it('csv: one row per point on the simplex surfaces with the stored value and run', async () => {
    const out = path.join(home, 'sweep.csv');
    expect((await cli('report', '--sweep', String(sweepId), '--format', 'csv', '--out', out)).code).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\r\n');
    const head = lines[0]!.split(',');
    const simplex = lines
      .slice(1)
      .map((l) => l.split(','))
      .filter((f) => f[0]!.startsWith('simplex-'));
    expect(simplex).toHaveLength(ppl.size);
    for (const f of simplex)
      expect(Number(f[head.indexOf('ppl')])).toBe(ppl.get(Number(f[head.indexOf('run')])));
  });

  it('run ids without --sweep still report those runs', async () => {
    const [a, b] = [...ppl.keys()];
    const out = path.join(home, 'runs.md');
    const r = await cli('report', String(a), String(b), '--format', 'md', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain(`run ${b}`);
  });

  it('refuses run ids with --sweep, a report of nothing, and an unknown metric', async () => {
    const out = path.join(home, 'x.html');
    expect((await cli('report', '--sweep', String(sweepId), '3', '--out', out)).stderr).toMatch(
      /--sweep reports one sweep/,
    );
    expect((await cli('report', '--out', out)).stderr).toMatch(/give run ids .* or --sweep ID/);
    const bad = await cli('report', '--sweep', String(sweepId), '--metric', 'bleu', '--out', out);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/no metric 'bleu'; its points have ppl/);
  });
});
