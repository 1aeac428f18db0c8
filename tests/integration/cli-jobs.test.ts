// Every CLI entry point that computes is a job: eval ppl / logits, tokenize, export and compress
// each leave exactly one stored run of their kind, built-in model names work everywhere, and a
// reference that does not resolve fails before any run exists.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import { RunDetail, RunSummary } from '../../src-main/contract/index';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-jobs-'));
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

const runs = async () => RunSummary.array().parse(JSON.parse((await cli('runs', 'list', '--json')).stdout));
const detail = async (id: number) =>
  RunDetail.parse(JSON.parse((await cli('runs', 'show', String(id), '--json')).stdout));

describe('CLI commands run as stored jobs', () => {
  it('eval ppl --model tiny-mixtral (a built-in name) works and stores one eval.ppl run', async () => {
    const r = await cli(
      'eval',
      'ppl',
      '--model',
      'tiny-mixtral',
      '--dataset',
      'heldout',
      '--max-windows',
      '1',
      '--seq-len',
      '64',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual([
      'backend',
      'nll',
      'peakRssBytes',
      'ppl',
      'seconds',
      'tokens',
      'tokensPerSecond',
      'windows',
    ]);
    expect([out.tokens, out.windows]).toEqual([63, 1]);
    expect(r.stderr).toMatch(/dataset heldout: \d+ rows from .*c4-heldout\.txt/);
    const list = await runs();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ kind: 'eval.ppl', status: 'succeeded', modelName: 'tiny-mixtral' });
    expect(list[0]!.headline.ppl).toBeCloseTo(out.ppl, 8);
    // the stored config says where the references were looked up
    const d = await detail(list[0]!.id);
    expect(d.config).toMatchObject({ model: 'tiny-mixtral', baseDir: process.cwd() });
    expect((d.config as { modelDirs: string[] }).modelDirs).toContain(
      path.resolve(__dirname, '../../resources/models'),
    );
  });

  it('a model or data set that does not resolve fails with one clear line and stores no run', async () => {
    const before = (await runs()).length;
    const bad = await cli('eval', 'ppl', '--model', 'does-not-exist', '--dataset', 'heldout', '--json');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    const [line, ...rest] = bad.stderr.trimEnd().split('\n');
    expect(line).toMatch(
      /^moe-bench: model: model 'does-not-exist' is neither a model folder .* nor a built-in model/,
    );
    expect(line).toMatch(/tiny-mixtral/); // the built-ins it could have been
    expect(rest.every((l) => l.startsWith('hint: '))).toBe(true);
    const noData = await cli('eval', 'ppl', '--model', 'tiny-mixtral', '--dataset', 'no-such-set');
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/dataset 'no-such-set' is neither a built-in .* nor an existing file/);
    const noText = await cli(
      'tokenize',
      '--model',
      'tiny-mixtral',
      '--text',
      'missing.txt',
      '--out',
      'x.json',
    );
    expect(noText.code).toBe(1);
    expect(noText.stderr).toMatch(/missing\.txt: text: no such file/);
    expect(await runs()).toHaveLength(before);
  });

  it('tokenize, logits and export store one run each, with their files as artifacts', async () => {
    const ids = path.join(home, 'ids.json');
    const text = path.join(home, 'in.txt');
    fs.writeFileSync(text, 'the expert router picks two experts for every token');
    const t = await cli('tokenize', '--model', 'tiny-mixtral', '--text', text, '--out', ids, '--json');
    expect(t.code, t.stderr).toBe(0);
    expect(Object.keys(JSON.parse(t.stdout)).sort()).toEqual(['out', 'tokens']);

    const logits = path.join(home, 'logits.json');
    const l = await cli('logits', '--model', 'tiny-mixtral', '--token-ids', ids, '--out', logits, '--json');
    expect(l.code, l.stderr).toBe(0);
    const lo = JSON.parse(l.stdout);
    expect(Object.keys(lo).sort()).toEqual(['out', 'shape']);
    expect(lo.shape[0]).toBe(JSON.parse(t.stdout).tokens);
    const el = await cli(
      'eval',
      'logits',
      '--model',
      'tiny-mixtral',
      '--token-ids',
      ids,
      '--out',
      logits,
      '--json',
    );
    expect(JSON.parse(el.stdout)).toEqual(lo);

    const exported = path.join(home, 'exported');
    const e = await cli(
      'export',
      '--model',
      'tiny-mixtral',
      '--out',
      exported,
      '--format',
      'dense',
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    const eo = JSON.parse(e.stdout);
    expect(eo).not.toHaveProperty('runId');
    expect(eo.outDir).toBe(exported);

    const list = (await runs()).slice(0, 4).reverse();
    expect(list.map((r) => [r.kind, r.status, r.modelName])).toEqual([
      ['tokenize', 'succeeded', 'tiny-mixtral'],
      ['eval.logits', 'succeeded', 'tiny-mixtral'],
      ['eval.logits', 'succeeded', 'tiny-mixtral'],
      ['export', 'succeeded', 'tiny-mixtral'],
    ]);
    expect((await detail(list[0]!.id)).artifacts.map((a) => [a.kind, a.path])).toEqual([['token-ids', ids]]);
    expect((await detail(list[1]!.id)).artifacts.map((a) => [a.kind, a.path])).toEqual([['logits', logits]]);
    const ex = await detail(list[3]!.id);
    expect(ex.artifacts.map((a) => a.path)).toEqual(eo.files);
    expect(ex.metrics.find((m) => m.name === 'paramsAfter')?.value).toBe(eo.params);
  });

  it('compress --model tiny-mixtral (the quick form with a built-in name) runs; a bad name stores nothing', async () => {
    const before = (await runs()).length;
    const bad = await cli('compress', '--model', 'does-not-exist', '--method', 'svd', '--ratio', '0.2');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/model 'does-not-exist' is neither/);
    expect(await runs()).toHaveLength(before);
    const out = path.join(home, 'svd-20');
    const r = await cli(
      ...['compress', '--model', 'tiny-mixtral', '--method', 'svd', '--ratio', '0.2'],
      ...['--calib-samples', '2', '--calib-seq-len', '32', '--out', out, '--json'],
    );
    expect(r.code, r.stderr).toBe(0);
    const [run] = await runs();
    expect(run).toMatchObject({ kind: 'compress', status: 'succeeded', modelName: 'tiny-mixtral' });
    expect(run!.id).toBe(JSON.parse(r.stdout).runId);
  });
});

describe('the app resolves every reference with its own roots, before a run exists', () => {
  it('jobs.start and pipelines.run refuse a config whose data set does not resolve, storing nothing', async () => {
    const { createApp } = await import('../../src-main/app/create-app');
    const appHome = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-jobs-app-'));
    const app = await createApp({ mode: 'cli', home: appHome });
    try {
      const config = {
        version: 1,
        name: 'bad-calib',
        model: 'tiny-mixtral',
        calibration: { dataset: 'no-such-set' },
        target: { ratio: 0.2 },
        steps: [{ method: 'svd', params: {} }],
      };
      await expect(
        app.handlers['jobs.start']({ kind: 'compress', params: { config, outDir: path.join(appHome, 'o') } }),
      ).rejects.toThrow(/config\.calibration\.dataset: dataset 'no-such-set' is neither a built-in/);
      await expect(
        app.handlers['jobs.start']({
          kind: 'compress',
          params: { config: { ...config, model: 'nope', calibration: {} }, outDir: 'o' },
        }),
      ).rejects.toThrow(/config\.model: model 'nope' is neither/);
      await expect(
        app.handlers['jobs.start']({
          kind: 'eval.ppl',
          params: { model: 'tiny-mixtral', evaluations: [{ text: 'x.txt' }] },
        }),
      ).rejects.toThrow(/evaluations\[0\]\.text: no such file/);
      expect(await app.handlers['runs.list']({})).toEqual([]);

      // a built-in data set previews as the engine reads it (its row format), by the app's roots
      const heldout = (await app.handlers['datasets.list']({})).find((d) => d.name === 'heldout')!;
      const preview = await app.handlers['datasets.preview']({ id: heldout.id });
      expect(preview.path).toBe(path.resolve(__dirname, '../../resources/data/heldout/c4-heldout.txt'));
      expect(preview.rows).toBe(
        fs.readFileSync(preview.path, 'utf8').split('\n\n').length, // 'documents': blank-line separated
      );
    } finally {
      await app.close();
      fs.rmSync(appHome, { recursive: true, force: true });
    }
  });
});
