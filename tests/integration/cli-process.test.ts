// The real `moe-bench` binary as a child process: exit codes and stdout purity end to end.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoctorReport, RunDetail } from '../../src-main/contract/index';

const bin = path.resolve(import.meta.dirname, '../../bin/moe-bench.mjs');
let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-proc-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MOE_BACKEND: '' } });

describe('moe-bench as a process', () => {
  it('doctor --json: exit 0, stdout is exactly one JSON document', () => {
    const r = run('doctor', '--json', '--home', home);
    expect(r.status).toBe(0);
    const report = DoctorReport.parse(JSON.parse(r.stdout));
    expect(report.backend).toBe('wasm');
    expect(report.nodeVersion).toBe(process.versions.node);
  });

  it('usage error: exit 2, nothing on stdout', () => {
    const r = run('runs', 'list', '--nope', '--home', home);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^moe-bench: unknown option '--nope'\nhint: /);
  });

  it('Ctrl+C during bench gemm cancels the job: run recorded cancelled, exit 1', async () => {
    const child = spawn(process.execPath, [
      bin,
      'bench',
      'gemm',
      '--json',
      '--seconds',
      '20',
      '--sizes',
      '128',
      '--home',
      home,
    ]);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        if (/\[run \d+\]/.test(err)) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await exit).toBe(1);
    expect(RunDetail.parse(JSON.parse(out))).toMatchObject({ status: 'cancelled', metrics: [] });
    expect(err).toMatch(/moe-bench: gemm benchmark cancelled/);
  });
});
