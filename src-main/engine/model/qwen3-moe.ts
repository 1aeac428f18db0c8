// Qwen3-MoE: independent head_dim, per-head q/k RMSNorm before RoPE, no shared expert.
import { z } from 'zod';
import type { ArchAdapter } from './adapter';
import { baseHfConfig, GATE_UP_DOWN, llamaNames, qwenLayerKeys } from './adapter';
import {
  commonFields,
  expertCountOrZero,
  headDivisible,
  nonNegInt,
  parseConfig,
  posInt,
  requireNoRopeScaling,
  requireSilu,
  requireTopK,
} from './config';
import { qwenLayerKinds } from './moe-layout';

const schema = z.looseObject({
  ...commonFields({
    vocab: 151936,
    hidden: 2048,
    intermediate: 6144,
    layers: 24,
    heads: 32,
    kvHeads: 4,
    eps: 1e-6,
    theta: 10000,
  }),
  head_dim: posInt.nullable().default(null),
  attention_bias: z.boolean().default(false),
  use_sliding_window: z.boolean().default(false),
  sliding_window: posInt.nullable().default(4096),
  decoder_sparse_step: posInt.default(1),
  moe_intermediate_size: posInt.default(768),
  num_experts_per_tok: posInt.default(8),
  num_experts: expertCountOrZero.default(128),
  norm_topk_prob: z.boolean().default(false),
  mlp_only_layers: z.array(nonNegInt).nullable().default([]),
});

export const qwen3Moe: ArchAdapter = {
  modelType: 'qwen3_moe',
  architecture: 'Qwen3MoeForCausalLM',
  parse(raw, file) {
    const c = parseConfig(schema, raw, file);
    requireSilu(c.hidden_act, file);
    const theta = requireNoRopeScaling(c, file);
    const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    // head_dim is independent of hidden_size / heads (HF: getattr(config, "head_dim", hidden // heads)).
    const headDim = c.head_dim ?? headDivisible(c.hidden_size, c.num_attention_heads, kvHeads, file);
    headDivisible(c.num_attention_heads * headDim, c.num_attention_heads, kvHeads, file);
    if (c.num_experts > 0) requireTopK(c.num_experts_per_tok, c.num_experts, file, 'num_experts_per_tok');
    const L = c.num_hidden_layers;
    return {
      architecture: this.architecture,
      modelType: this.modelType,
      hidden: c.hidden_size,
      layers: L,
      vocab: c.vocab_size,
      norm: { kind: 'rms', eps: c.rms_norm_eps },
      rope: { theta, rotaryDim: headDim },
      attention: {
        heads: c.num_attention_heads,
        kvHeads,
        headDim,
        qkvBias: c.attention_bias,
        oBias: c.attention_bias,
        qkNorm: 'per-head',
        clipQkv: null,
      },
      slidingWindow: Array(L).fill(c.use_sliding_window ? c.sliding_window : null),
      layerKinds: qwenLayerKinds(L, c.num_experts, c.decoder_sparse_step, c.mlp_only_layers ?? [], file),
      intermediate: c.intermediate_size,
      moeIntermediate: c.moe_intermediate_size,
      experts: c.num_experts,
      routing: { kind: 'softmax-topk', topK: c.num_experts_per_tok, normTopK: c.norm_topk_prob, normEps: 0 },
      sharedExperts: 0,
      sharedIntermediate: 0,
      sharedGate: false,
      tieEmbeddings: c.tie_word_embeddings,
      lmHeadBias: false,
      names: llamaNames({ moeBlock: 'mlp', expertProj: GATE_UP_DOWN }),
    };
  },
  /** Dense layers after Block Drop are listed in mlp_only_layers (one window for all layers). */
  hfConfig(raw, layout) {
    const config = baseHfConfig(raw, layout, 'num_experts');
    qwenLayerKeys(config, layout);
    return { config };
  },
};
