// A large single batch costs no more per token than small ones (issue 18: fix the slowdown of big
// perplexity batches instead of capping them). Pinned without timing: each window's logits are the
// same bits whatever batch it runs in, the perplexity is the same, and the elements the kernels read
// per token do not grow with the batch (tfjs-wasm's Slice reading its whole input per call made
// per-sequence cuts O(B²); row blocks now go through the host, blocks/row-blocks.ts).
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { perplexity } from '../../src-main/engine/eval/perplexity';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

const MIXTRAL = path.resolve(__dirname, '../../resources/models/tiny-mixtral');
const T = 16;
let model: LoadedModel;
beforeAll(async () => {
  await initBackend({ force: 'wasm' });
  model = openModel(MIXTRAL);
  return () => model.checkpoint.close();
});

const windows = (n: number) =>
  Array.from({ length: n }, (_, b) =>
    Array.from({ length: T }, (_, t) => (t * 31 + b * 17 + 3) % model.spec.vocab),
  );

async function logitsOf(seqs: number[][], opts: ConstructorParameters<typeof StreamingExecutor>[1] = {}) {
  const exec = new StreamingExecutor(model, opts);
  try {
    const x = await exec.forward(exec.embed(seqs));
    const V = model.spec.vocab;
    const out = new Float32Array(x.hidden.shape[0] * V);
    await exec.logitsChunks(x.hidden, (r0, b) => out.set(b.dataSync() as Float32Array, r0 * V));
    x.hidden.dispose();
    return out;
  } finally {
    exec.dispose();
  }
}

/** First index where two arrays differ in bits (-1: identical); vitest's toEqual is slow on long arrays. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe('batch size does not change results or per-token work', () => {
  it('each window gives the same logits alone, in a batch of 3, and in one batch of 12', async () => {
    const all = windows(12);
    const V = model.spec.vocab;
    const whole = await logitsOf(all);
    // small row chunks too: several MoE / logits blocks per batch
    const chunked = await logitsOf(all, { tokenChunk: 40, logitsBudgetBytes: 4 * V * 24 });
    expect(firstDiff(chunked, whole)).toBe(-1);
    for (let b0 = 0; b0 < 12; b0 += 3) {
      const part = await logitsOf(all.slice(b0, b0 + 3));
      expect(firstDiff(part, whole.subarray(b0 * T * V, (b0 + 3) * T * V))).toBe(-1);
    }
    expect(firstDiff(await logitsOf([all[7]!]), whole.subarray(7 * T * V, 8 * T * V))).toBe(-1);
  });

  it('perplexity is the same for batches of 1, 4 and all 12 windows', async () => {
    const toks = windows(12).flat();
    const runs = await Promise.all([1, 4, 12].map((batch) => perplexity(model, toks, { seqLen: T, batch })));
    for (const r of runs) {
      expect(r.tokens).toBe(12 * (T - 1));
      // the logits are identical (above); only the f64 sum's grouping differs
      expect(Math.abs(r.nll - runs[0]!.nll)).toBeLessThan(1e-9 * runs[0]!.nll);
    }
  });

  it('kernel input elements per token do not grow with the batch', async () => {
    const perToken = async (n: number) => {
      const p = await tf.profile(async () => {
        await logitsOf(windows(n), { tokenChunk: 64 });
      });
      let elems = 0;
      for (const k of p.kernels) for (const s of k.inputShapes) elems += s.reduce((a, b) => a * b, 1);
      return elems / (n * T);
    };
    const small = await perToken(2);
    const large = await perToken(16);
    // weights are read once per call, so per token the large batch reads less; an O(B²) copy reads more
    expect(large).toBeLessThanOrEqual(small);
    expect(large).toBeGreaterThan(0);
  });
});
