// Two real `moe-bench compress` processes on one `--out` (issue 17: they raced, one died with a raw
// ENOENT). The second is refused before any compute with a sentence naming the work folder and the
// process holding it; the first is unharmed (it then cancels on Ctrl+C and releases the lock), and a
// half-written lock is never mistaken for a stale one (work-folder.ts links a finished lock file).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stderrMatches } from '../support/child-output';

const bin = path.resolve(import.meta.dirname, '../../bin/moe-bench.mjs');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'out-race-'));
const home = path.join(root, 'home');
const out = path.join(root, 'shared-out');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function compress() {
  const child = spawn(
    process.execPath,
    [
      bin,
      'compress',
      '--model',
      'tiny-mixtral',
      '--method',
      'svd-llm',
      '--ratio',
      '0.2',
      '--out',
      out,
      '--home',
      home,
    ],
    { env: { ...process.env, MOE_BACKEND: '' } },
  );
  const seen = { err: '' };
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    seen.err += c;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, seen, exit };
}

describe('two processes, one --out', () => {
  it('the second is refused naming the folder and the first process; the first goes on', async () => {
    const first = compress();
    // the job has claimed the work folder before it reads the calibration data
    await stderrMatches(first.child, first.seen, /\[run \d+\]\s+0% calibration data/);
    const lock = path.join(`${out}.work`, '.lock');
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(first.child.pid));

    const second = compress();
    expect(await second.exit).toBe(1);
    expect(second.seen.err).toContain(
      `moe-bench: compress failed: ${out}.work: workDir: the work folder is in use by another run (process ${first.child.pid})`,
    );
    expect(second.seen.err).not.toMatch(/ENOENT|EEXIST/);
    // the first still holds its folder and answers Ctrl+C gracefully
    expect(first.child.exitCode).toBeNull();
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(first.child.pid));
    first.child.kill('SIGINT');
    expect(await first.exit).toBe(1);
    expect(first.seen.err).toMatch(/moe-bench: compress cancelled/);
    expect(fs.existsSync(lock)).toBe(false);
  }, 180_000);
});
