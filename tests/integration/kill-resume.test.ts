// kill -9 at three points of a compression (mid layer pass, at the start of the resumed attempt, at
// the last layer of the next), then the same command again: the store stays intact, there is ONE run holding every layer
// record (issue 17 defect 6: resume used to start a new run that recorded only its own layers), and
// the checkpoint is byte-identical to an uninterrupted run's.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'moe-bench.mjs');
const LAYERS = 4;
let root: string;
let model: string;
let text: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-resume-'));
  model = path.join(root, 'mixtral');
  writeTinyCheckpoint(model, { arch: 'mixtral', layers: LAYERS, seed: 4 });
  text = path.join(root, 'calib.txt');
  const words = ['the', 'expert', 'router', 'token', 'layer', 'model', 'compress', 'rank', 'of', 'and'];
  fs.writeFileSync(
    text,
    Array.from({ length: 3000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' '),
  );
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const args = (home: string, out: string) => [
  BIN,
  'compress',
  '--model',
  model,
  '--method',
  'svd-llm',
  '--ratio',
  '0.25',
  '--calib-text',
  text,
  '--calib-samples',
  '4',
  '--calib-seq-len',
  '32',
  '--seed',
  '3',
  '--out',
  out,
  '--home',
  home,
  '--json',
];

/** Runs the CLI; with `killAt`, SIGKILLs it as soon as a progress line matches. */
function run(
  home: string,
  out: string,
  killAt?: RegExp,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args(home, out), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (killAt?.test(stderr) && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

it('three kills, one run with every layer record, the same bytes as an uninterrupted run', async () => {
  const refHome = path.join(root, 'ref-home');
  const ref = await run(refHome, path.join(root, 'ref-out'));
  expect(ref.code, ref.stderr).toBe(0);

  const home = path.join(root, 'home');
  const out = path.join(root, 'out');
  // mid layer pass; at the very start of the resumed attempt; at the last layer of the next one
  const points = [/· layer 2\/4/, /\d+% calibration data/, /· layer 4\/4/];
  for (const at of points) {
    const r = await run(home, out, at);
    expect(r.signal, `expected a kill at ${at}:\n${r.stderr}`).toBe('SIGKILL');
    const db = new Database(path.join(home, 'workbench.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }
  const last = await run(home, out);
  expect(last.code, last.stderr).toBe(0);

  const db = new Database(path.join(home, 'workbench.sqlite'), { readonly: true });
  const runs = db.prepare(`SELECT id, status FROM runs WHERE kind = 'compress'`).all() as {
    id: number;
    status: string;
  }[];
  const layers = db
    .prepare('SELECT layer FROM run_layers WHERE run_id = ? ORDER BY layer')
    .all(runs[0]!.id) as { layer: number }[];
  const artifacts = db.prepare('SELECT sha256 FROM artifacts WHERE run_id = ?').all(runs[0]!.id) as {
    sha256: string;
  }[];
  db.close();
  const refDb = new Database(path.join(refHome, 'workbench.sqlite'), { readonly: true });
  const refArtifacts = refDb.prepare('SELECT sha256 FROM artifacts').all() as { sha256: string }[];
  const refLayers = refDb.prepare('SELECT layer FROM run_layers ORDER BY layer').all() as { layer: number }[];
  refDb.close();
  expect(runs).toEqual([{ id: runs[0]!.id, status: 'succeeded' }]);
  expect(refLayers.length).toBeGreaterThan(1);
  expect(layers).toEqual(refLayers);
  expect(artifacts).toEqual(refArtifacts);
  expect(
    fs
      .readFileSync(path.join(out, 'model.safetensors'))
      .equals(fs.readFileSync(path.join(root, 'ref-out', 'model.safetensors'))),
  ).toBe(true);
  expect(fs.existsSync(`${out}.work`)).toBe(false);
}, 600_000);
