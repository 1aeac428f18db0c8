// `moe-bench eval mc` prints exactly the issue-14 contract and stores one eval.mc run:
// {task, n, acc, acc_norm, acc_stderr, acc_norm_stderr, docs: [{gold, logliks}]}, WinoGrande
// without the acc_norm fields.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import { RunDetail, RunSummary } from '../../src-main/contract/index';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-mc-'));
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

it('eval mc --json prints the contract and stores an eval.mc run with per-task metrics', async () => {
  const arc = await cli(
    'eval',
    'mc',
    '--model',
    'tiny-mixtral',
    '--task',
    'arc_easy',
    '--limit',
    '2',
    '--json',
  );
  expect(arc.code, arc.stderr).toBe(0);
  const a = JSON.parse(arc.stdout);
  expect(Object.keys(a)).toEqual(['task', 'n', 'acc', 'acc_norm', 'acc_stderr', 'acc_norm_stderr', 'docs']);
  expect([a.task, a.n, a.docs.length]).toEqual(['arc_easy', 2, 2]);
  for (const d of a.docs) {
    expect(Object.keys(d)).toEqual(['gold', 'logliks']);
    expect(d.logliks).toHaveLength(4);
  }
  const wg = await cli(
    'eval',
    'mc',
    '--model',
    'tiny-mixtral',
    '--task',
    'winogrande',
    '--limit',
    '2',
    '--json',
  );
  expect(wg.code, wg.stderr).toBe(0);
  expect(Object.keys(JSON.parse(wg.stdout))).toEqual(['task', 'n', 'acc', 'acc_stderr', 'docs']);

  const list = RunSummary.array().parse(JSON.parse((await cli('runs', 'list', '--json')).stdout));
  const mc = list.filter((r) => r.kind === 'eval.mc');
  expect(mc).toHaveLength(2);
  expect(mc.every((r) => r.status === 'succeeded' && typeof r.headline.accAvg === 'number')).toBe(true);
  const detail = RunDetail.parse(JSON.parse((await cli('runs', 'show', String(mc[1]!.id), '--json')).stdout));
  const acc = detail.metrics.find((m) => m.name === 'acc');
  expect([acc?.dataset, acc?.value]).toEqual(['arc_easy', a.acc]);

  const bad = await cli('eval', 'mc', '--model', 'tiny-mixtral', '--task', 'boolq');
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/arc_easy/);
}, 600_000);
