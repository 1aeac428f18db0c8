// The CLI in-process: exit codes, --json purity, one-line errors. Each test gets its own --home.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import { readJsonFile } from '../../src-main/cli/context';
import { commandsFor } from '../../src-main/cli/program';
import { DoctorReport, RunDetail, RunSummary } from '../../src-main/contract/index';
import { LATEST_SCHEMA_VERSION, openStore } from '../../src-main/store/index';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'moe-bench', ...args], {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

describe('moe-bench exit codes and output', () => {
  it('doctor --json prints only a DoctorReport naming the wasm backend', async () => {
    const r = await cli('doctor', '--json', '--home', home);
    expect(r.code).toBe(0);
    const report = DoctorReport.parse(JSON.parse(r.stdout));
    expect(report.backend).toBe('wasm');
    expect(report.backends.find((b) => b.name === 'wasm')).toMatchObject({ available: true });
    expect(report.backends.find((b) => b.name === 'node-gpu')!.reason).toMatch(/not installed/);
    expect(report.electronBinary.present).toBe(false);
    expect(report.storePath).toBe(path.join(home, 'workbench.sqlite'));
    expect(report.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(report.error).toBeUndefined();
  });

  it('doctor with a forced backend that is missing: the report still prints, with the reason, exit 1', async () => {
    const r = await cli('--backend', 'node', 'doctor', '--json', '--home', home);
    expect(r.code).toBe(1);
    const report = DoctorReport.parse(JSON.parse(r.stdout));
    expect(report.backend).toBeNull();
    expect(report.error).toMatch(
      /^forced backend 'node' is unavailable: @tensorflow\/tfjs-node is not installed/,
    );
    expect(report.backends.map((b) => [b.name, b.available])).toEqual([
      ['node-gpu', false],
      ['node', false],
      ['wasm', false],
      ['cpu', false],
    ]);
    expect(report.backends.find((b) => b.name === 'wasm')!.reason).toBe("skipped: backend forced to 'node'");
    expect(report.storePath).toBe(path.join(home, 'workbench.sqlite'));
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      `moe-bench: ${report.error}`,
      expect.stringMatching(/^hint: install the package for 'node'/),
    ]);

    const human = await cli('--backend', 'node', 'doctor', '--home', home);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^backend: +none \(forced backend 'node' is unavailable: /m);
    expect(human.stdout).toMatch(/^sqlite: +3\./m);
  });

  it('global options work after the command too, and human output is not JSON', async () => {
    const r = await cli('--home', home, 'runs', 'list');
    expect(r).toMatchObject({ code: 0, stdout: 'no runs\n', stderr: '' });
  });

  it.each([
    [['doctor', '--frobnicate'], /unknown option '--frobnicate'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['runs', 'show'], /missing required argument 'id'/],
    [['runs', 'show', 'abc'], /expected a positive integer, got 'abc'/],
    [['runs', 'list', '--status', 'weird'], /Allowed choices are/],
    [['--backend', 'tpu', 'doctor'], /Allowed choices are node-gpu, node, wasm, cpu/],
    [['bench', 'gemm', '--sizes', '256,x'], /comma-separated positive integers/],
  ])('usage error %j exits 2 with one line and a hint, no stack', async (args, pattern) => {
    const r = await cli(...args, '--home', home);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^moe-bench: /);
    expect(lines[0]).toMatch(pattern);
    expect(lines[1]).toMatch(/^hint: /);
  });

  it('no command prints the help to stderr and exits 2', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: moe-bench/);
  });

  it('--help exits 0', async () => {
    const r = await cli('runs', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/list/);
  });

  it('runtime failures exit 1: missing run, and --verbose adds the stack', async () => {
    const r = await cli('runs', 'show', '999', '--home', home);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'moe-bench: run 999 not found\n' });
    const v = await cli('runs', 'show', '999', '--home', home, '--verbose');
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/\n\s+at /);
  });

  it('an unwritable store folder is one clear line, exit 1', async () => {
    const blocker = path.join(home, 'file');
    fs.writeFileSync(blocker, '');
    const r = await cli('runs', 'list', '--home', path.join(blocker, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `moe-bench: store folder '${path.join(blocker, 'x')}' is not writable (ENOTDIR)`,
    );
    expect(r.stderr).toMatch(/hint: pass --home DIR/);
  });

  it('a store from a newer schema is refused and left intact', async () => {
    const file = path.join(home, 'workbench.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 7');
    db.close();
    const before = fs.readFileSync(file);
    const r = await cli('runs', 'list', '--json', '--home', home);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/schema version 7, newer than this app supports/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('runs list/show/delete over a stored run, --json parses as the contract types', async () => {
    const s = openStore(path.join(home, 'workbench.sqlite'));
    const a = s.runs.create({ kind: 'diagnostics.gemm', config: { sizes: [64] }, appVersion: '0.1.0' });
    s.runs.markRunning(a.id);
    s.runs.recordMetric(a.id, { name: 'gflops@64', value: 3, dataset: null, unit: 'GFLOP/s' });
    s.runs.finish(a.id, 'succeeded');
    const b = s.runs.create({ kind: 'other', config: {}, appVersion: '0.1.0' });
    s.runs.finish(b.id, 'failed', 'x');
    s.close();

    const list = await cli('runs', 'list', '--json', '--status', 'succeeded', '--home', home);
    expect(list.code).toBe(0);
    expect(
      RunSummary.array()
        .parse(JSON.parse(list.stdout))
        .map((r) => r.id),
    ).toEqual([a.id]);
    const limited = await cli('runs', 'list', '--json', '--limit', '1', '--home', home);
    expect(JSON.parse(limited.stdout).map((r: { id: number }) => r.id)).toEqual([b.id]);

    const show = await cli('runs', 'show', String(a.id), '--json', '--home', home);
    expect(RunDetail.parse(JSON.parse(show.stdout)).metrics).toEqual([
      { name: 'gflops@64', value: 3, dataset: null, unit: 'GFLOP/s', headline: false },
    ]);
    const human = await cli('runs', 'show', String(a.id), '--home', home);
    expect(human.stdout).toMatch(/gflops@64 = 3 GFLOP\/s/);

    const del = await cli('runs', 'delete', String(a.id), '--json', '--home', home);
    expect(JSON.parse(del.stdout)).toEqual({ deleted: true, removed: [], kept: [] });
    expect((await cli('runs', 'show', String(a.id), '--home', home)).code).toBe(1);
  });

  it('bench gemm stores a run with one gflops metric per size; progress goes to stderr', async () => {
    const r = await cli('bench', 'gemm', '--sizes', '32,64', '--seconds', '0.05', '--json', '--home', home);
    expect(r.code).toBe(0);
    const run = RunDetail.parse(JSON.parse(r.stdout));
    expect(run).toMatchObject({
      kind: 'diagnostics.gemm',
      status: 'succeeded',
      backend: 'wasm',
      config: { sizes: [32, 64], seconds: 0.05 },
    });
    expect(run.metrics.map((m) => [m.name, m.unit])).toEqual([
      ['gflops@32', 'GFLOP/s'],
      ['gflops@64', 'GFLOP/s'],
    ]);
    expect(run.metrics.every((m) => m.value > 0)).toBe(true);
    // the job flags its gflops as headline metrics: run lists show them
    expect(Object.keys(run.headline)).toEqual(['gflops@32', 'gflops@64']);
    const list = await cli('runs', 'list', '--home', home);
    expect(list.stdout).toMatch(/gflops@32=[\d.,]+GFLOP\/s gflops@64=[\d.,]+GFLOP\/s/);
    expect(r.stderr).toMatch(/\[run 1\]\s+\d+% gemm 32/);
  });
});

describe('lazy command loading', () => {
  const names = (args: string[]) => commandsFor(args).map((c) => c.name);
  it('loads only the command the arguments name, stepping over global options and their values', () => {
    expect(names(['doctor', '--json'])).toEqual(['doctor']);
    expect(names(['--home', 'doctor', 'runs', 'list'])).toEqual(['runs']);
    expect(names(['--backend', 'wasm', '--json', 'bench', 'gemm'])).toEqual(['bench']);
    expect(names(['--home=/x', 'eval', 'ppl'])).toEqual(['eval']);
  });
  it('loads every command for help, no command, or an unknown one', () => {
    const all = names([]);
    expect(all).toContain('doctor');
    expect(all.length).toBeGreaterThan(5);
    expect(names(['--help'])).toEqual(all);
    expect(names(['frobnicate'])).toEqual(all);
    expect(names(['help', 'doctor'])).toEqual(all);
  });
  it('each registry entry registers the command it is named for', async () => {
    const { Command } = await import('commander');
    const { COMMANDS } = await import('../../src-main/cli/commands/index');
    for (const entry of COMMANDS) {
      const program = new Command();
      (await entry.load()).register(program, {} as never);
      expect(program.commands.map((c) => c.name())).toEqual([entry.name]);
    }
  });
});

describe('JSON config files', () => {
  it('names the file and the problem for malformed JSON', () => {
    const file = path.join(home, 'cfg.json');
    fs.writeFileSync(file, '{ "steps": [1, 2,] }');
    expect(() => readJsonFile(file, 'pipeline config')).toThrow(
      new RegExp(`^${file}: pipeline config is not valid JSON`),
    );
    expect(() => readJsonFile(path.join(home, 'none.json'), 'pipeline config')).toThrow(
      /none\.json: cannot read pipeline config \(ENOENT\)/,
    );
  });
});
