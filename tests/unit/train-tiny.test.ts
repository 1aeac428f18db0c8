import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalAttention, softmaxCrossEntropy } from '../../scripts/train/fused-ops';
import { hfConfig, hfEntries, writeHfModel } from '../../scripts/train/hf-export';
import { importHfParams } from '../../scripts/train/hf-import';
import type { TinyArch } from '../../scripts/train/tiny-arch';
import { expertUtilisation, perplexity, unigramPerplexity } from '../../scripts/train/tiny-eval';
import { initParams, paramShapes } from '../../scripts/train/tiny-moe-model';
import { DEFAULT_TRAIN, TINY_ARCHS } from '../../scripts/train/tiny-presets';
import { lrAt, TinyTrainer, type TrainSettings } from '../../scripts/train/trainer';
import { registerEngineGradients } from '../../src-main/engine/grad/gradients';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

const base = {
  vocab: 32,
  hidden: 16,
  layers: 2,
  heads: 2,
  ropeTheta: 10000,
  rmsEps: 1e-5,
  maxPositions: 64,
  bosId: 0,
  eosId: 1,
  padId: 2,
};
const mixtral: TinyArch = {
  ...base,
  family: 'mixtral',
  kvHeads: 1,
  experts: 4,
  topK: 2,
  moeIntermediate: 8,
  normTopK: true,
  sharedExperts: 0,
  firstKDense: 0,
  denseIntermediate: 0,
};
const deepseek: TinyArch = {
  ...base,
  family: 'deepseek',
  kvHeads: 2,
  experts: 4,
  topK: 2,
  moeIntermediate: 4,
  normTopK: false,
  sharedExperts: 2,
  firstKDense: 1,
  denseIntermediate: 12,
};
const settings: TrainSettings = {
  ...DEFAULT_TRAIN,
  batch: 2,
  seq: 16,
  lr: 1e-2,
  warmupSteps: 3,
  steps: 40,
  logEvery: 1,
};
const periodic = Int32Array.from({ length: 4000 }, (_, i) => 3 + ((i * i) % 29));

beforeAll(async () => {
  await initBackend();
  registerEngineGradients();
});

describe('fused ops', () => {
  it('cross-entropy gradient is (softmax − onehot)/N', () => {
    const x = tf.tensor2d([
      [0.1, 0.5, -0.3],
      [1, 2, 3],
    ]);
    const labels = Int32Array.from([1, 0]);
    const g = tf
      .grad((t: tf.Tensor) => softmaxCrossEntropy(t, labels))(x)
      .arraySync() as number[][];
    const p = tf.softmax(x).arraySync() as number[][];
    const want = p.map((row, i) => row.map((v, j) => (v - (j === labels[i] ? 1 : 0)) / 2));
    for (const [i, v] of g.flat().entries()) expect(v).toBeCloseTo(want.flat()[i]!, 5);
    const loss = softmaxCrossEntropy(x, labels).dataSync()[0]!;
    expect(loss).toBeCloseTo(-(Math.log(p[0]![1]!) + Math.log(p[1]![0]!)) / 2, 5);
  });

  it('causal attention is causal and its gradient matches finite differences', () => {
    const shape = { batch: 1, seq: 3, heads: 2, kvHeads: 1, headDim: 2 };
    const q = tf.tensor2d([0.3, -0.2, 0.5, 0.1, 0.2, 0.4, -0.6, 0.3, 0.9, -0.1, 0.2, 0.7], [3, 4]);
    const kv = tf.tensor2d([0.2, 0.1, -0.4, 0.5, 0.3, -0.2], [3, 2]);
    const v = tf.tensor2d([0.5, -0.3, 0.1, 0.8, -0.2, 0.4], [3, 2]);
    const w = tf.tensor2d([1, 2, 3, 4, -1, 0.5, 2, 1, 0.3, 0.7, -2, 1], [3, 4]);
    const f = (qq: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(causalAttention(qq, k, v, shape), w));
    // token 0 attends only to itself: output row 0 = v[0] for both heads (GQA, one kv head)
    const out = causalAttention(q, kv, v, shape).arraySync() as number[][];
    expect(out[0]).toEqual([0.5, -0.3, 0.5, -0.3].map((x) => expect.closeTo(x, 6)));
    const gk = tf
      .grad((k: tf.Tensor) => f(q, k))(kv)
      .dataSync();
    const base0 = kv.dataSync();
    const eps = 1e-2;
    for (let i = 0; i < base0.length; i++) {
      const plus = base0.slice();
      plus[i]! += eps;
      const minus = base0.slice();
      minus[i]! -= eps;
      const num =
        (f(q, tf.tensor2d(plus, [3, 2])).dataSync()[0]! - f(q, tf.tensor2d(minus, [3, 2])).dataSync()[0]!) /
        (2 * eps);
      expect(gk[i]!).toBeCloseTo(num, 2);
    }
  });
});

describe('tiny trainer', () => {
  it('learns: the loss on a periodic stream falls below 40% of its start (both families)', () => {
    for (const arch of [mixtral, deepseek]) {
      const tr = new TinyTrainer(arch, settings);
      const first = tr.step(periodic).loss;
      let last = first;
      for (let i = 1; i < 40; i++) last = tr.step(periodic).loss;
      tr.dispose();
      expect(first).toBeCloseTo(Math.log(32), 0);
      expect(last).toBeLessThan(0.4 * first);
    }
  });

  it('is deterministic from the seed', () => {
    const run = (): Float32Array => {
      const tr = new TinyTrainer(mixtral, settings);
      for (let i = 0; i < 3; i++) tr.step(periodic);
      const p = tr.params().get('l1.w2')!.slice();
      tr.dispose();
      return p;
    };
    expect(run()).toEqual(run());
  });

  it('resumes from a checkpoint bit-exactly (params, Adam moments, batch PRNG)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tiny-ckpt-'));
    try {
      const a = new TinyTrainer(deepseek, settings);
      for (let i = 0; i < 3; i++) a.step(periodic);
      const want = a.params().get('l1.w1')!.slice();
      a.dispose();
      const b = new TinyTrainer(deepseek, settings);
      for (let i = 0; i < 2; i++) b.step(periodic);
      b.saveCheckpoint(dir);
      b.dispose();
      const c = TinyTrainer.loadCheckpoint(dir, deepseek, settings)!;
      expect(c.state.step).toBe(2);
      c.step(periodic);
      expect(c.params().get('l1.w1')).toEqual(want);
      c.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warms up linearly then decays by cosine to the floor', () => {
    expect(lrAt(settings, 0, 100)).toBeCloseTo(settings.lr / 3, 10);
    expect(lrAt(settings, 2, 100)).toBeCloseTo(settings.lr, 10);
    expect(lrAt(settings, 100, 100)).toBeCloseTo(settings.lr * settings.minLrRatio, 10);
  });
});

describe('HF export', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tiny-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the exact Mixtral and DeepSeek-v1 tensor names and shapes', () => {
    const mix = new Map(hfEntries(mixtral, () => new Float32Array(0), 'BF16').map((e) => [e.name, e.shape]));
    expect(mix.get('model.layers.1.block_sparse_moe.gate.weight')).toEqual([4, 16]);
    expect(mix.get('model.layers.0.block_sparse_moe.experts.3.w1.weight')).toEqual([8, 16]);
    expect(mix.get('model.layers.0.block_sparse_moe.experts.3.w2.weight')).toEqual([16, 8]);
    expect(mix.get('model.layers.0.self_attn.k_proj.weight')).toEqual([8, 16]);
    expect(mix.get('lm_head.weight')).toEqual([32, 16]);
    const ds = new Map(hfEntries(deepseek, () => new Float32Array(0), 'BF16').map((e) => [e.name, e.shape]));
    expect(ds.get('model.layers.0.mlp.gate_proj.weight')).toEqual([12, 16]);
    expect(ds.has('model.layers.0.mlp.gate.weight')).toBe(false);
    expect(ds.get('model.layers.1.mlp.gate.weight')).toEqual([4, 16]);
    expect(ds.get('model.layers.1.mlp.experts.2.down_proj.weight')).toEqual([16, 4]);
    expect(ds.get('model.layers.1.mlp.shared_experts.up_proj.weight')).toEqual([8, 16]);
    expect(hfConfig(deepseek)).toMatchObject({
      model_type: 'deepseek',
      architectures: ['DeepseekForCausalLM'],
      n_routed_experts: 4,
      n_shared_experts: 2,
      moe_intermediate_size: 4,
      intermediate_size: 12,
      first_k_dense_replace: 1,
      norm_topk_prob: false,
      scoring_func: 'softmax',
    });
    expect(hfConfig(TINY_ARCHS['tiny-mixtral']!)).toMatchObject({
      model_type: 'mixtral',
      num_local_experts: 8,
      num_experts_per_tok: 2,
    });
  });

  it('round-trips through bf16 safetensors and keeps the forward (ppl within 1%)', () => {
    for (const arch of [mixtral, deepseek]) {
      const params = initParams(arch, 7);
      const sub = path.join(dir, arch.family);
      writeHfModel(sub, arch, (n) => params.get(n)!);
      const back = importHfParams(path.join(sub, 'model.safetensors'), arch);
      for (const [n, v] of params) {
        const w = back.get(n)!;
        expect(w.length).toBe(v.length);
        for (let i = 0; i < v.length; i += 17)
          expect(Math.abs(w[i]! - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) / 128 + 1e-30);
      }
      const shapes = paramShapes(arch);
      const a = perplexity(arch, params, shapes, periodic.subarray(0, 200), 16);
      const b = perplexity(arch, back, shapes, periodic.subarray(0, 200), 16);
      expect(a.tokens).toBe(12 * 16);
      expect(Math.abs(a.ppl - b.ppl) / a.ppl).toBeLessThan(0.01);
      expect(JSON.parse(readFileSync(path.join(sub, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    }
  });
});

describe('evaluation helpers', () => {
  it('unigram perplexity uses add-one counts', () => {
    const r = unigramPerplexity(Int32Array.from([0, 0, 1]), 2, Int32Array.from([0, 1]));
    // p(0) = 3/5, p(1) = 2/5
    expect(r.ppl).toBeCloseTo(Math.exp(-(Math.log(0.6) + Math.log(0.4)) / 2), 10);
  });
  it('flags experts below a quarter of their uniform share', () => {
    const u = expertUtilisation(new Map([[3, Float64Array.from([50, 30, 15, 5])]]));
    expect(u[0]!.layer).toBe(3);
    expect(u[0]!.minOfUniform).toBeCloseTo(0.2, 10);
    expect(u[0]!.dead).toEqual([3]);
  });
});
