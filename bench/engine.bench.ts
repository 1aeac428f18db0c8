// Engine throughput and layer-streaming memory: eval-ppl tokens/s on a generated 8-expert model,
// achieved GEMM GFLOP/s at the shapes it runs, and peak RSS of a 16-layer vs a 4-layer model of the
// same width (each in its own child process, so RSS is measured cleanly). Measurements only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perplexity } from '../src-main/engine/eval/perplexity';
import { openModel } from '../src-main/engine/model/model';
import { initBackend, tf } from '../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../tests/support/tiny-checkpoints';
import { BENCH_MODEL_SHAPE } from './bench-model-shape';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HIDDEN = 512;
const SHAPE = BENCH_MODEL_SHAPE;
const SEQ_LEN = 256;
const WINDOWS = 4;

function makeModel(dir: string, layers: number): void {
  writeTinyCheckpoint(dir, {
    arch: 'mixtral',
    dtype: 'BF16',
    layers,
    hidden: HIDDEN,
    vocab: 4096,
    seed: 1,
    overrides: SHAPE,
  });
}

function tokenIds(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + 13) % 4096);
}

function gemmGflops(m: number, k: number, n: number): number {
  const a = tf.randomNormal([m, k]) as tf.Tensor2D;
  const b = tf.randomNormal([k, n]) as tf.Tensor2D;
  tf.matMul(a, b).dispose();
  const reps = 5;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.matMul(a, b).dataSync();
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (2 * m * k * n * reps) / s / 1e9;
}

function childPpl(dir: string, idsFile: string): { peakRssBytes: number; tokensPerSecond: number } {
  const out = execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'bin/moe-bench.mjs'),
      'eval',
      'ppl',
      '--model',
      dir,
      '--token-ids',
      idsFile,
      '--seq-len',
      String(SEQ_LEN),
      '--batch',
      '2',
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return JSON.parse(out.toString());
}

export async function run(): Promise<Record<string, number | string>> {
  const root = mkdtempSync(path.join(tmpdir(), 'engine-bench-'));
  try {
    const backend = (await initBackend()).active;
    const m4 = path.join(root, 'l4');
    const m16 = path.join(root, 'l16');
    makeModel(m4, 4);
    makeModel(m16, 16);
    const ids = tokenIds(SEQ_LEN * WINDOWS);
    const idsFile = path.join(root, 'ids.json');
    writeFileSync(idsFile, JSON.stringify({ ids }));

    const model = openModel(m4);
    const r = await perplexity(model, ids, { seqLen: SEQ_LEN, batch: WINDOWS });
    model.checkpoint.close();

    const gemmAttn = gemmGflops(SEQ_LEN * WINDOWS, HIDDEN, HIDDEN);
    const gemmExpert = gemmGflops(SEQ_LEN, HIDDEN, SHAPE.intermediate_size); // ~T·k/N routed rows per expert
    const c4 = childPpl(m4, idsFile);
    const c16 = childPpl(m16, idsFile);
    return {
      backend,
      model: `mixtral-like bf16, hidden ${HIDDEN}, 8 experts top-2, I=${SHAPE.intermediate_size}, vocab 4096`,
      evalTokensPerSecond4L: Number(r.tokensPerSecond.toFixed(1)),
      evalTokensPerSecond16L: Number(c16.tokensPerSecond.toFixed(1)),
      gemmGflopsAttnProj: Number(gemmAttn.toFixed(1)),
      gemmGflopsExpert: Number(gemmExpert.toFixed(1)),
      peakRssMiB4L: Math.round(c4.peakRssBytes / 2 ** 20),
      peakRssMiB16L: Math.round(c16.peakRssBytes / 2 ** 20),
      rssRatio16vs4: Number((c16.peakRssBytes / c4.peakRssBytes).toFixed(3)),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
