// The batched scorer against a plain forward pass: each continuation's log-likelihood equals the
// sum of its tokens' log-softmax values from the full logits of its own sequence alone
// (sequenceLogits), whatever the batching — padding, several batches, dedup and prefix sharing.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedLoglikelihood, type LoglikRequest } from '../../src-main/engine/eval/loglikelihood';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { initBackend } from '../../src-main/engine/tensor/backend';

const MODELS = ['tiny-mixtral', 'tiny-deepseek'].map((m) =>
  path.resolve(__dirname, '../../resources/models', m),
);

/** Σ_j log_softmax(logits[first + j])[targets[j]] in f64 from one sequence's full [T, V] logits. */
async function plainLoglik(model: LoadedModel, r: LoglikRequest): Promise<number> {
  const V = model.spec.vocab;
  const z = await sequenceLogits(model, r.input);
  let s = 0;
  for (let j = 0; j < r.targets.length; j++) {
    const row = z.subarray((r.first + j) * V, (r.first + j + 1) * V);
    let m = -Infinity;
    for (const v of row) m = Math.max(m, v);
    let e = 0;
    for (const v of row) e += Math.exp(v - m);
    s += row[r.targets[j]!]! - m - Math.log(e);
  }
  return s;
}

function seq(seed: number, n: number, V: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 3 + (x % (V - 3));
  });
}

describe.each(MODELS)('batched log-likelihood (%s)', (dir) => {
  let model: LoadedModel;
  beforeAll(async () => {
    await initBackend();
    model = openModel(dir);
  });
  afterAll(() => model.checkpoint.close());

  it('equals the per-token log-probs of a plain full forward pass', async () => {
    const V = model.spec.vocab;
    const long = seq(1, 37, V);
    const mid = seq(2, 20, V);
    const requests: LoglikRequest[] = [
      // a span in the middle of a long input (the tail positions are not scored)
      { input: long, targets: long.slice(11, 16), first: 10 },
      // a prefix of the long input: read from the long one's forward pass
      { input: long.slice(0, 9), targets: [...long.slice(1, 9), 17], first: 0 },
      { input: mid, targets: [mid[19]!, 5].slice(0, 1), first: 18 },
      // the same input twice (deduplicated), different spans
      { input: mid, targets: mid.slice(5, 8), first: 4 },
      { input: seq(3, 6, V), targets: [4, 9], first: 4 },
      { input: seq(4, 1, V), targets: [8], first: 0 },
      // nothing to score: 0, and no forward pass for it
      { input: seq(5, 3, V), targets: [], first: 3 },
    ];
    const want = await Promise.all(requests.map((r) => plainLoglik(model, r)));
    // a budget of 40 tokens: the 37-token input alone, then the rest padded to the longest in batches
    const small = await batchedLoglikelihood(model, requests, { tokenBudget: 40 });
    const one = await batchedLoglikelihood(model, requests, { tokenBudget: 4096 });
    expect(small.sequences).toBe(4); // long (with its prefix), mid (twice), seq 3, seq 4
    expect(small.forwards).toBeGreaterThan(1);
    expect(one.forwards).toBe(1);
    for (const [i, w] of want.entries()) {
      expect(small.logliks[i]).toBeCloseTo(w, 3);
      expect(one.logliks[i]).toBeCloseTo(w, 3);
    }
    expect(small.logliks[6]).toBe(0);
    expect(want.slice(0, 6).every((w) => w < 0)).toBe(true);
  });

  it('rejects a span outside the input and a target outside the vocabulary', async () => {
    await expect(batchedLoglikelihood(model, [{ input: [5, 6], targets: [1, 2], first: 1 }])).rejects.toThrow(
      /request 0: scored span \[1, 3\)/,
    );
    await expect(
      batchedLoglikelihood(model, [{ input: [5, 6], targets: [model.spec.vocab], first: 1 }]),
    ).rejects.toThrow(/outside the vocabulary/);
  });
});
