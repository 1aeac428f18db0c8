import { beforeAll, describe, expect, it } from 'vitest';
import { blockNll, defaultBatch } from '../../src-main/engine/eval/perplexity';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

beforeAll(async () => {
  await initBackend();
});

describe('perplexity NLL', () => {
  it('is log-sum-exp minus the target logit, stable for large logits', () => {
    const logits = tf.tensor2d([
      [1000, 0, -1000],
      [0, 0, 0],
      [2, 1, 0],
    ]);
    const nll = blockNll(logits, Int32Array.from([0, 2, 1]));
    const row3 = Math.log(Math.exp(2) + Math.exp(1) + 1) - 1;
    expect(nll).toBeCloseTo(0 + Math.log(3) + row3, 4);
    logits.dispose();
  });

  it('default batch keeps the hidden states of a batch near 256 MiB', () => {
    expect(defaultBatch(4096, 2048)).toBe(8);
    expect(defaultBatch(64, 24)).toBe(43690); // no token cap: large batches cost no more per token
    expect(defaultBatch(128, 512)).toBe(1024);
  });
});
