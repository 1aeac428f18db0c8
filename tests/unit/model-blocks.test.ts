import { beforeAll, describe, expect, it } from 'vitest';
import { gqaHeadMap } from '../../src-main/engine/model/blocks/attention';
import { causalMask } from '../../src-main/engine/model/blocks/causal-mask';
import { layerNorm } from '../../src-main/engine/model/blocks/layer-norm';
import { rmsNorm } from '../../src-main/engine/model/blocks/rms-norm';
import { applyRope, ropeFrequencies, ropeTables } from '../../src-main/engine/model/blocks/rope';
import { softmaxTopK, sparsemixer } from '../../src-main/engine/model/blocks/routing';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

beforeAll(async () => {
  await initBackend();
});

describe('RoPE (rotate_half layout)', () => {
  it('rotates a vector at position 1 as computed by hand', () => {
    const spec = { theta: 10000, rotaryDim: 4 };
    const t = ropeTables(spec, 2);
    const x = tf.tensor4d([0, 0, 0, 0, 1, 2, 3, 4], [1, 2, 1, 4]);
    const y = applyRope(x, t).dataSync();
    // inv_freq = [1, 1/100]; at t=1 angles a = [1, 0.01]; (x1,x2) = ([1,2],[3,4])
    const a = [1, 0.01];
    const want = [
      1 * Math.cos(a[0]!) - 3 * Math.sin(a[0]!),
      2 * Math.cos(a[1]!) - 4 * Math.sin(a[1]!),
      3 * Math.cos(a[0]!) + 1 * Math.sin(a[0]!),
      4 * Math.cos(a[1]!) + 2 * Math.sin(a[1]!),
    ];
    for (let i = 0; i < 4; i++) expect(y[4 + i]).toBeCloseTo(want[i]!, 6);
    // position 0 is the identity
    expect(Array.from(y.slice(0, 4))).toEqual([0, 0, 0, 0]);
    tf.dispose([x, t.cos, t.sin]);
  });

  it('passes dims beyond rotaryDim through (partial rotary)', () => {
    const t = ropeTables({ theta: 10000, rotaryDim: 2 }, 2);
    const x = tf.tensor4d([1, 2, 3, 4, 1, 2, 3, 4], [1, 2, 1, 4]);
    const y = applyRope(x, t).dataSync();
    expect([y[6], y[7]]).toEqual([3, 4]);
    expect(y[4]).toBeCloseTo(Math.cos(1) - 2 * Math.sin(1), 6);
    tf.dispose([x, t.cos, t.sin]);
  });

  it('longrope divides frequencies by the short factors and scales by mscale', () => {
    const spec = {
      theta: 100,
      rotaryDim: 4,
      longrope: {
        shortFactor: [2, 4],
        longFactor: [8, 16],
        originalMaxPositions: 4,
        shortMscale: 1.5,
        longMscale: 3,
      },
    };
    const short = ropeFrequencies(spec, 4);
    expect(short.invFreq[0]).toBeCloseTo(1 / 2, 7);
    expect(short.invFreq[1]).toBeCloseTo(1 / (4 * 10), 7);
    expect(short.mscale).toBe(1.5);
    const long = ropeFrequencies(spec, 5);
    expect(long.invFreq[1]).toBeCloseTo(1 / (16 * 10), 7);
    expect(long.mscale).toBe(3);
  });
});

describe('routing', () => {
  const logits = Float32Array.from([1, 2, 3, 4].map(Math.log)); // probs 0.1 .. 0.4

  it('softmax top-k without renormalisation keeps the raw probabilities', () => {
    const r = softmaxTopK(logits, 1, 4, 2, false, 0);
    expect(Array.from(r.experts)).toEqual([3, 2]);
    expect(r.weights[0]).toBeCloseTo(0.4, 6);
    expect(r.weights[1]).toBeCloseTo(0.3, 6);
  });

  it('renormalises the top-k weights to sum 1 when asked', () => {
    const r = softmaxTopK(logits, 1, 4, 2, true, 0);
    expect(r.weights[0]).toBeCloseTo(4 / 7, 6);
    expect(r.weights[1]).toBeCloseTo(3 / 7, 6);
    const all = softmaxTopK(logits, 1, 4, 4, true, 0);
    expect(Array.from(all.experts)).toEqual([3, 2, 1, 0]);
  });

  it('sparsemixer (inference) on a known input: masked softmax for top-1, arg-max of the rest for top-2', () => {
    const r = sparsemixer(Float32Array.from([2.0, 1.9, 0.0, -1.0]), 1, 4, 0.1);
    expect(Array.from(r.experts)).toEqual([0, 1]);
    // round 1 keeps {2.0, 1.9} (relative gap 0.05 ≤ 0.2): weight = 1/(1+e^-0.1)
    expect(r.weights[0]).toBeCloseTo(1 / (1 + Math.exp(-0.1)), 6);
    // round 2: expert 0 is masked, the others are > 0.2 below 1.9 → weight 1, not renormalised
    expect(r.weights[1]).toBeCloseTo(1, 6);
    const wide = sparsemixer(Float32Array.from([2.0, 1.9, 0.0, -1.0]), 1, 4, 0.01);
    expect(wide.weights[0]).toBeCloseTo(1, 6);
  });
});

describe('attention helpers', () => {
  it('GQA maps consecutive query heads to one kv head (repeat_kv)', () => {
    expect(Array.from(gqaHeadMap(8, 2))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(gqaHeadMap(4, 4))).toEqual([0, 1, 2, 3]);
  });

  it('causal mask with a sliding window of 2 sees exactly {i-1, i}', () => {
    const m = causalMask(0, 4, 0, 4, 2);
    const v = m.dataSync();
    const seen = (i: number) => [0, 1, 2, 3].filter((j) => v[i * 4 + j] === 0);
    expect([seen(0), seen(1), seen(2), seen(3)]).toEqual([[0], [0, 1], [1, 2], [2, 3]]);
    m.dispose();
  });
});

describe('norms', () => {
  it('RMSNorm and LayerNorm match hand computation', () => {
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const w = tf.tensor1d([1, 1, 2, 2]);
    const r = rmsNorm(x, w, 0).dataSync();
    const rms = Math.sqrt((1 + 4 + 9 + 16) / 4);
    expect(r[2]).toBeCloseTo((3 / rms) * 2, 5);
    const b = tf.tensor1d([0, 0, 0, 1]);
    const l = layerNorm(x, w, b, 0).dataSync();
    const sd = Math.sqrt(1.25);
    expect(l[0]).toBeCloseTo(-1.5 / sd, 5);
    expect(l[3]).toBeCloseTo((1.5 / sd) * 2 + 1, 5);
    tf.dispose([x, w, b]);
  });
});
