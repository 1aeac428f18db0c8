// Wall time of `moe-bench doctor --json` as a fresh process (median of 5); includes the backend probe worker.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function run(): Promise<Record<string, number | string>> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
  const bin = path.resolve(import.meta.dirname, '../bin/moe-bench.mjs');
  const time = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args, '--home', home]);
    if (r.status !== 0) throw new Error(`moe-bench ${args.join(' ')} exited ${r.status}`);
    return performance.now() - t0;
  };
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  try {
    const doctor = median([0, 1, 2, 3, 4].map(() => time(['doctor', '--json'])));
    const list = median([0, 1, 2, 3, 4].map(() => time(['runs', 'list', '--json'])));
    return { doctorJsonMs: Math.round(doctor), runsListJsonMs: Math.round(list) };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
