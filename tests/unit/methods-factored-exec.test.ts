// Factored experts in the executor: each decomposed expert runs as two thin matmuls per projection,
// and a B shared by several experts (MoE-SVD V sharing) is applied once per token chunk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { ExpertWeights, Linear, MoeLayerView, Tensor2D } from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factored-exec-'));
let model: LoadedModel;
const R = 8;

beforeAll(async () => {
  await initBackend();
  writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 1, seed: 2 });
  model = openModel(dir);
});
afterAll(() => {
  model.checkpoint.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function factoredView(shareB: boolean): MoeLayerView {
  const dense = readMoeView(model, 0);
  const h = model.spec.hidden;
  const I = model.spec.moeIntermediate;
  const rnd = (r: number, c: number, seed: number) =>
    tf.randomNormal([r, c], 0, 0.1, 'float32', seed) as Tensor2D;
  const sharedGate = rnd(R, h, 1);
  const sharedUp = rnd(R, h, 2);
  const experts: ExpertWeights[] = dense.experts.map((_, e) => ({
    gate: { kind: 'factored', A: rnd(I, R, 10 + e), B: shareB ? sharedGate : tf.clone(sharedGate) } as Linear,
    up: { kind: 'factored', A: rnd(I, R, 20 + e), B: shareB ? sharedUp : tf.clone(sharedUp) } as Linear,
    down: { kind: 'factored', A: rnd(h, R, 30 + e), B: rnd(R, I, 40 + e) } as Linear,
  }));
  const view: MoeLayerView = { layer: 0, router: tf.clone(dense.router), experts, routing: dense.routing };
  disposeMoeView(dense);
  return view;
}

async function runCounting(
  view: MoeLayerView,
  seqs: number[][],
): Promise<{ out: Float32Array; matmuls: number }> {
  const exec = new StreamingExecutor(model, { overrides: new Map([[0, { moe: view }]]) });
  const x = exec.embed(seqs);
  let out: Float32Array = new Float32Array();
  const prof = await tf.profile(async () => {
    const y = await exec.runLayer(0, x);
    out = y.dataSync() as Float32Array;
    y.dispose();
  });
  x.hidden.dispose();
  exec.dispose();
  return { out, matmuls: prof.kernels.filter((k) => k.name === 'BatchMatMul').length };
}

describe('factored experts in the executor', () => {
  it('shared B is applied once per chunk; distinct-but-equal B gives the same output with more matmuls', async () => {
    const rng = xoshiro128ss(3);
    const seqs = [Array.from({ length: 40 }, () => rng.int(256))];
    const shared = factoredView(true);
    const own = factoredView(false);
    const a = await runCounting(shared, seqs);
    const b = await runCounting(own, seqs);
    // attention (q,k,v,o + scores) and router are common to both; the difference is exactly the
    // per-expert x·B of gate and up (2 per active expert) replaced by 2 shared products
    const active = model.spec.experts; // 40 tokens × top-2 over 4 experts: every expert is active
    expect(b.matmuls - a.matmuls).toBe(2 * active - 2);
    let maxDiff = 0;
    for (let i = 0; i < a.out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.out[i]! - b.out[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    disposeMoeView(shared);
    disposeMoeView(own);
  });
});
