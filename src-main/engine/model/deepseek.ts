// DeepSeek-MoE v1 (remote code modeling_deepseek.py): dense first_k_dense_replace layers,
// moe_layer_freq, ungated shared experts (n_shared × moe_intermediate), softmax gate whose top-k
// weights are renormalised (sum + 1e-20) only when norm_topk_prob and top_k > 1.
import { z } from 'zod';
import { EngineError } from '../errors';
import type { ArchAdapter } from './adapter';
import { baseHfConfig, GATE_UP_DOWN, keptKinds, layersDropped, llamaNames } from './adapter';
import {
  commonFields,
  expertCount,
  expertCountOrZero,
  headDivisible,
  nonNegInt,
  parseConfig,
  posInt,
  requireNoRopeScaling,
  requireSilu,
  requireTopK,
} from './config';
import { deepseekLayerKinds } from './moe-layout';

const schema = z.looseObject({
  ...commonFields({
    vocab: 102400,
    hidden: 4096,
    intermediate: 11008,
    layers: 30,
    heads: 32,
    kvHeads: null,
    eps: 1e-6,
    theta: 10000,
  }),
  attention_bias: z.boolean().default(false),
  moe_intermediate_size: posInt.default(1407),
  n_shared_experts: expertCountOrZero.nullable().default(null),
  n_routed_experts: expertCount.nullable().default(null),
  num_experts_per_tok: posInt.nullable().default(null),
  moe_layer_freq: posInt.default(1),
  first_k_dense_replace: nonNegInt.default(0),
  norm_topk_prob: z.boolean().default(false),
  scoring_func: z.string().default('softmax'),
});

export const deepseek: ArchAdapter = {
  modelType: 'deepseek',
  architecture: 'DeepseekForCausalLM',
  parse(raw, file) {
    const c = parseConfig(schema, raw, file);
    requireSilu(c.hidden_act, file);
    const theta = requireNoRopeScaling(c, file);
    if (c.scoring_func !== 'softmax') {
      throw new EngineError(
        `scoring_func '${c.scoring_func}' is not supported (DeepSeek-MoE v1 uses 'softmax')`,
        {
          file,
          field: 'scoring_func',
        },
      );
    }
    const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    const headDim = headDivisible(c.hidden_size, c.num_attention_heads, kvHeads, file);
    const routed = c.n_routed_experts;
    const topK = c.num_experts_per_tok ?? 0;
    if (routed !== null) {
      if (topK < 1)
        throw new EngineError('required when n_routed_experts is set', {
          file,
          field: 'num_experts_per_tok',
        });
      requireTopK(topK, routed, file, 'num_experts_per_tok');
    }
    const L = c.num_hidden_layers;
    const shared = c.n_shared_experts ?? 0;
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
        qkNorm: 'none',
        clipQkv: null,
      },
      slidingWindow: Array(L).fill(null),
      layerKinds: deepseekLayerKinds(L, routed, c.first_k_dense_replace, c.moe_layer_freq),
      intermediate: c.intermediate_size,
      moeIntermediate: c.moe_intermediate_size,
      experts: routed ?? 0,
      routing: { kind: 'softmax-topk', topK, normTopK: c.norm_topk_prob && topK > 1, normEps: 1e-20 },
      sharedExperts: shared,
      sharedIntermediate: shared * c.moe_intermediate_size,
      sharedGate: false,
      tieEmbeddings: c.tie_word_embeddings,
      lmHeadBias: false,
      names: llamaNames({ moeBlock: 'mlp', expertProj: GATE_UP_DOWN, sharedExpert: 'shared_experts' }),
    };
  },
  /**
   * The dense/MoE pattern after Block Drop must again be "the first k layers dense, then every f-th
   * layer MoE" (first_k_dense_replace, moe_layer_freq); otherwise the layout has no DeepSeek config.
   */
  hfConfig(raw, layout) {
    const config = baseHfConfig(raw, layout, 'n_routed_experts');
    if (!layersDropped(layout) || !layout.spec.layerKinds.includes('moe')) return { config };
    const kinds = keptKinds(layout);
    const L = kinds.length;
    const fits = (k: number, f: number) =>
      deepseekLayerKinds(L, 1, k, f).every((kind, i) => kind === kinds[i]);
    const f0 = typeof raw.moe_layer_freq === 'number' ? raw.moe_layer_freq : 1;
    for (const f of [f0, ...Array.from({ length: Math.max(L, 1) }, (_, i) => i + 1)]) {
      for (let k = 0; k <= L; k++) {
        if (!fits(k, f)) continue;
        config.first_k_dense_replace = k;
        config.moe_layer_freq = f;
        return { config };
      }
    }
    return {
      reason: `DeepSeek's config says "first first_k_dense_replace layers dense, then every moe_layer_freq-th layer MoE"; the layers left after Block Drop are [${kinds.join(', ')}]`,
    };
  },
};
