// moe-bench compress end to end (through the app, the engine host and a worker): the quick form and
// the equivalent one-step config give identical checkpoints; inspect / eval ppl work on the output
// folders; the exported parameter total equals the run's paramsAfter; the dense export loads as a
// plain HF checkpoint and matches the factored one.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src-main/engine/io/checkpoint';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

let root: string;
let model: string;
let text: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'compress-cli-'));
  model = path.join(root, 'mixtral');
  writeTinyCheckpoint(model, { arch: 'mixtral', layers: 3, seed: 21 });
  text = path.join(root, 'calib.txt');
  const words = ['the', 'expert', 'router', 'token', 'layer', 'model', 'compress', 'rank', 'of', 'and'];
  fs.writeFileSync(
    text,
    Array.from({ length: 4000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' '),
  );
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'moe-bench.mjs');

/** The real CLI in its own process, as a user runs it. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--home', root],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const quick = (method: string, out: string, extra: string[] = [], ratio = '0.3') =>
  cli(
    'compress',
    '--model',
    model,
    '--method',
    method,
    '--ratio',
    ratio,
    '--calib-text',
    text,
    '--calib-samples',
    '4',
    '--calib-seq-len',
    '32',
    '--seed',
    '5',
    '--out',
    out,
    '--json',
    ...extra,
  );

describe('moe-bench compress', () => {
  it('quick form and the equivalent config give identical outputs; inspect total = paramsAfter', async () => {
    const a = await quick('svd-llm', path.join(root, 'out-quick'));
    expect(a.code, a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout);
    expect(Object.keys(ra)).toEqual(
      expect.arrayContaining(['runId', 'achievedRatio', 'paramsBefore', 'paramsAfter', 'outDir', 'seconds']),
    );
    expect(ra.runId).toBeGreaterThan(0);
    const cfg = path.join(root, 'p.json');
    fs.writeFileSync(
      cfg,
      JSON.stringify({
        version: 1,
        name: 'svd-llm-0.3',
        model,
        calibration: { text, samples: 4, seqLen: 32, seed: 5 },
        target: { ratio: 0.3 },
        steps: [{ method: 'svd-llm' }],
      }),
    );
    const b = await cli('compress', '--config', cfg, '--out', path.join(root, 'out-config'), '--json');
    expect(b.code, b.stderr).toBe(0);
    const rb = JSON.parse(b.stdout);
    expect(rb.paramsAfter).toBe(ra.paramsAfter);
    const fromConfig = fs.readFileSync(path.join(root, 'out-config', 'model.safetensors'));
    expect(fromConfig.equals(fs.readFileSync(path.join(root, 'out-quick', 'model.safetensors')))).toBe(true);

    const run = JSON.parse((await cli('runs', 'show', String(ra.runId), '--json')).stdout);
    expect(run.status).toBe('succeeded');
    expect(run.layers.map((l: { layer: number }) => l.layer)).toEqual(ra.layers);
    expect(run.metrics.find((m: { name: string }) => m.name === 'paramsAfter').value).toBe(ra.paramsAfter);
    expect(run.artifacts[0].path).toBe(path.join(root, 'out-quick', 'model.safetensors'));
    const ins = await cli('inspect', path.join(root, 'out-quick'), '--json');
    expect(ins.code, ins.stderr).toBe(0);
    expect(JSON.parse(ins.stdout).params.total).toBe(ra.paramsAfter);
    const ppl = await cli(
      'eval',
      'ppl',
      '--model',
      path.join(root, 'out-quick'),
      '--text',
      text,
      '--seq-len',
      '32',
      '--max-windows',
      '2',
      '--json',
    );
    expect(ppl.code, ppl.stderr).toBe(0);
    expect(Number.isFinite(JSON.parse(ppl.stdout).ppl)).toBe(true);
  });

  it('moe-svd: shared V stored once, exported total = paramsAfter; dense export has the original layout and the same ppl', async () => {
    // at 0.3 MoE-SVD (edges protected) cannot reach the target on this model: refused before any run
    const refused = await quick('moe-svd', path.join(root, 'out-moesvd-30'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/reaches a whole-model ratio of 0\.\d+, not the target 0\.3/);
    const f = await quick('moe-svd', path.join(root, 'out-moesvd'), [], '0.2');
    expect(f.code, f.stderr).toBe(0);
    const rf = JSON.parse(f.stdout);
    const ins = JSON.parse((await cli('inspect', path.join(root, 'out-moesvd'), '--json')).stdout);
    expect(ins.params.total).toBe(rf.paramsAfter);
    const d = await quick('moe-svd', path.join(root, 'out-moesvd-dense'), ['--format', 'dense'], '0.2');
    expect(d.code, d.stderr).toBe(0);
    const insD = JSON.parse((await cli('inspect', path.join(root, 'out-moesvd-dense'), '--json')).stdout);
    expect(insD.params.total).toBe(JSON.parse(d.stdout).paramsBefore);
    expect(
      JSON.parse(fs.readFileSync(path.join(root, 'out-moesvd-dense', 'config.json'), 'utf8')).moe_workbench,
    ).toBeUndefined();
    const p1 = JSON.parse(
      (
        await cli(
          'eval',
          'ppl',
          '--model',
          path.join(root, 'out-moesvd'),
          '--text',
          text,
          '--seq-len',
          '32',
          '--max-windows',
          '2',
          '--json',
        )
      ).stdout,
    );
    const p2 = JSON.parse(
      (
        await cli(
          'eval',
          'ppl',
          '--model',
          path.join(root, 'out-moesvd-dense'),
          '--text',
          text,
          '--seq-len',
          '32',
          '--max-windows',
          '2',
          '--json',
        )
      ).stdout,
    );
    expect(Math.abs(p1.ppl - p2.ppl) / p2.ppl).toBeLessThan(1e-4);
    // `moe-bench export` turns the factored folder into the same dense checkpoint
    const ex = await cli(
      'export',
      '--model',
      path.join(root, 'out-moesvd'),
      '--out',
      path.join(root, 'out-moesvd-exported'),
      '--json',
    );
    expect(ex.code, ex.stderr).toBe(0);
    // Same tensors (names, shapes) and values up to f32 summation order of A·B. Compare numerically:
    // toEqual on two ~1 MB buffers that differ walks them byte by byte and blocks the event loop.
    const exported = Checkpoint.open(path.join(root, 'out-moesvd-exported'));
    const dense = Checkpoint.open(path.join(root, 'out-moesvd-dense'));
    expect(exported.names().sort()).toEqual(dense.names().sort());
    let worst = 0;
    for (const name of dense.names()) {
      expect(exported.info(name).shape).toEqual(dense.info(name).shape);
      const a = exported.readF32(name);
      const b = dense.readF32(name);
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
    exported.close();
    dense.close();
    expect(worst).toBeLessThan(1e-5);
  });

  it('bad usage is one clear error', async () => {
    const r = await cli(
      'compress',
      '--model',
      model,
      '--method',
      'nope',
      '--ratio',
      '0.3',
      '--out',
      path.join(root, 'x'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown --method 'nope'/);
  });
});
