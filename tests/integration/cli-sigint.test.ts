// Two Ctrl+C on the real `moe-bench` process (issue 17: SIGINT must stay effective in every phase).
// The first asks the running job to stop gracefully; the second, sent while the job is still busy
// (inside one large GEMM, where the job cannot look at its cancel flag), ends the process at once
// with a message and exit code 130, and the store still opens with the run marked interrupted. No
// sleeps: each signal follows a line the CLI printed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stderrMatches } from '../support/child-output';

const bin = path.resolve(import.meta.dirname, '../../bin/moe-bench.mjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-sigint-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('moe-bench and two Ctrl+C', () => {
  it('first cancels gracefully, second exits at once with code 130 and a message', async () => {
    // one 3072×3072 product takes seconds on the wasm backend: the window the second press lands in
    const child = spawn(
      process.execPath,
      [bin, 'bench', 'gemm', '--sizes', '3072', '--seconds', '30', '--home', home],
      { env: { ...process.env, MOE_BACKEND: '' } },
    );
    const seen = { err: '' };
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      seen.err += c;
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    await stderrMatches(child, seen, /\[run \d+\]\s+0% gemm 3072/);
    child.kill('SIGINT');
    await stderrMatches(child, seen, /cancelling… \(press Ctrl\+C again to stop at once\)/);
    child.kill('SIGINT');
    const r = await exit;
    // exited on its own, with the code, not killed by the signal (that would be code null)
    expect(r).toEqual({ code: 130, signal: null });
    expect(seen.err).toMatch(/moe-bench: interrupted again: stopping at once/);
    expect(seen.err).not.toMatch(/gemm benchmark cancelled/);

    const list = spawnSync(process.execPath, [bin, 'runs', 'list', '--json', '--home', home], {
      encoding: 'utf8',
    });
    expect(list.status).toBe(0);
    const runs = JSON.parse(list.stdout) as { kind: string; status: string }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ kind: 'diagnostics.gemm', status: 'interrupted' });
  }, 120_000);
});
