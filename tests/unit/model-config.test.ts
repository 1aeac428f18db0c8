// config.json parsing: supported types, HF defaults, and errors naming file and key.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { parseModelSpec } from '../../src-main/engine/model/registry';
import { tinyConfig } from '../support/tiny-checkpoints';

const FILE = '/m/config.json';

function err(raw: Record<string, unknown>): EngineError {
  try {
    parseModelSpec(raw, FILE);
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('model config parsing', () => {
  it('rejects an unsupported model_type and lists the supported ones', () => {
    const e = err({ model_type: 'llama' });
    expect(e.file).toBe(FILE);
    expect(e.field).toBe('model_type');
    expect(e.message).toMatch(/mixtral, qwen2_moe, qwen3_moe, olmoe, deepseek, phimoe/);
  });

  it('names the bad key', () => {
    const e = err({ ...tinyConfig({ arch: 'mixtral' }), num_local_experts: 'eight' });
    expect(e.field).toBe('num_local_experts');
    expect(err({ ...tinyConfig({ arch: 'olmoe' }), num_attention_heads: 5 }).field).toBe(
      'num_attention_heads',
    );
  });

  it('refuses unimplemented features instead of computing something else', () => {
    expect(err({ ...tinyConfig({ arch: 'mixtral' }), rope_scaling: { type: 'yarn', factor: 4 } }).field).toBe(
      'rope_scaling',
    );
    expect(err({ ...tinyConfig({ arch: 'qwen2_moe' }), hidden_act: 'gelu' }).field).toBe('hidden_act');
    expect(err({ ...tinyConfig({ arch: 'phimoe' }), num_experts_per_tok: 3 }).field).toBe(
      'num_experts_per_tok',
    );
    expect(err({ ...tinyConfig({ arch: 'deepseek' }), scoring_func: 'sigmoid' }).field).toBe('scoring_func');
  });

  it('applies the HF layer rules: qwen mlp_only_layers / sparse step, deepseek dense prefix and frequency', () => {
    const q = parseModelSpec(
      { ...tinyConfig({ arch: 'qwen2_moe', layers: 4 }), mlp_only_layers: [0], decoder_sparse_step: 2 },
      FILE,
    );
    expect(q.layerKinds).toEqual(['dense', 'moe', 'dense', 'moe']);
    const d = parseModelSpec(
      { ...tinyConfig({ arch: 'deepseek', layers: 5 }), first_k_dense_replace: 1, moe_layer_freq: 2 },
      FILE,
    );
    expect(d.layerKinds).toEqual(['dense', 'dense', 'moe', 'dense', 'moe']);
    expect(d.sharedIntermediate).toBe(2 * 24);
    expect(d.routing).toEqual({ kind: 'softmax-topk', topK: 3, normTopK: false, normEps: 1e-20 });
  });

  it('fills HF defaults and per-arch semantics', () => {
    const m = parseModelSpec({ model_type: 'mixtral' }, FILE);
    expect([m.hidden, m.experts, m.routing.topK, m.norm.eps, m.rope.theta]).toEqual([4096, 8, 2, 1e-5, 1e6]);
    expect(m.routing).toMatchObject({ normTopK: true });
    const o = parseModelSpec({ model_type: 'olmoe' }, FILE);
    expect(o.attention).toMatchObject({ qkNorm: 'full', kvHeads: 16 });
    expect(o.routing).toMatchObject({ topK: 8, normTopK: false });
    const q3 = parseModelSpec(tinyConfig({ arch: 'qwen3_moe' }), FILE);
    expect(q3.attention).toMatchObject({ headDim: 24, qkNorm: 'per-head' });
    const p = parseModelSpec(tinyConfig({ arch: 'phimoe' }), FILE);
    expect(p.norm.kind).toBe('layer');
    expect(p.routing).toEqual({ kind: 'sparsemixer', topK: 2, jitterEps: 0.1 });
  });

  it('accepts Phi-3.5 longrope and checks its factor lengths', () => {
    const base = tinyConfig({ arch: 'phimoe' });
    const half = 64 / 4 / 2;
    const ok = parseModelSpec(
      {
        ...base,
        original_max_position_embeddings: 64,
        rope_scaling: {
          type: 'longrope',
          short_factor: Array(half).fill(1.5),
          long_factor: Array(half).fill(3),
          short_mscale: 1.2,
          long_mscale: 1.2,
        },
      },
      FILE,
    );
    expect(ok.rope.longrope?.shortMscale).toBe(1.2);
    expect(
      err({ ...base, rope_scaling: { type: 'longrope', short_factor: [1], long_factor: [1] } }).field,
    ).toBe('rope_scaling.short_factor');
  });
});
