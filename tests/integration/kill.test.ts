// kill -9 in the middle of a run: the store stays consistent and the next open marks the run interrupted.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RunSummary } from '../../src-main/contract/index';

const bin = path.resolve(import.meta.dirname, '../../bin/moe-bench.mjs');
let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

it('survives kill -9 during bench gemm', async () => {
  const child = spawn(
    process.execPath,
    [bin, 'bench', 'gemm', '--home', home, '--seconds', '20', '--sizes', '256,512'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  // event-driven: wait for the first progress line, which the worker only sends once the run is running
  const runId = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      const m = /\[run (\d+)\]/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`bench exited before reporting progress:\n${buf}`)));
  });
  const file = path.join(home, 'workbench.sqlite');
  const before = new Database(file, { readonly: true });
  expect(
    (before.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string }).status,
  ).toBe('running');
  before.close();

  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const db = new Database(file);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect((db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string }).status).toBe(
    'running',
  );
  db.close();

  const list = spawnSync(process.execPath, [bin, 'runs', 'list', '--json', '--home', home], {
    encoding: 'utf8',
  });
  expect(list.status).toBe(0);
  const runs = RunSummary.array().parse(JSON.parse(list.stdout));
  expect(runs.find((r) => r.id === runId)).toMatchObject({ status: 'interrupted', kind: 'diagnostics.gemm' });
});
