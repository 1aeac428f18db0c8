// The real `moe-bench` binary as a child process: exit codes and stdout purity end to end.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoctorReport } from '../../src-main/contract/index';

const bin = path.resolve(import.meta.dirname, '../../bin/moe-bench.mjs');
let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-proc-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MOE_BACKEND: '' } });

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
});
