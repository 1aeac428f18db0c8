// OLMoE: q/k RMSNorm over the full projected width (before the head split), clip_qkv after the
// norms, softmax routing without renormalisation by default.
import { z } from 'zod';
import type { ArchAdapter } from './adapter';
import { baseHfConfig, GATE_UP_DOWN, llamaNames } from './adapter';
import {
  commonFields,
  expertCount,
  headDivisible,
  parseConfig,
  posInt,
  posNum,
  requireNoRopeScaling,
  requireSilu,
  requireTopK,
} from './config';

const schema = z.looseObject({
  ...commonFields({
    vocab: 50304,
    hidden: 2048,
    intermediate: 2048,
    layers: 16,
    heads: 16,
    kvHeads: null,
    eps: 1e-5,
    theta: 10000,
  }),
  attention_bias: z.boolean().default(false),
  clip_qkv: posNum.nullable().default(null),
  num_experts_per_tok: posInt.default(8),
  num_experts: expertCount.default(64),
  norm_topk_prob: z.boolean().default(false),
});

export const olmoe: ArchAdapter = {
  modelType: 'olmoe',
  architecture: 'OlmoeForCausalLM',
  parse(raw, file) {
    const c = parseConfig(schema, raw, file);
    requireSilu(c.hidden_act, file);
    const theta = requireNoRopeScaling(c, file);
    const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    const headDim = headDivisible(c.hidden_size, c.num_attention_heads, kvHeads, file);
    requireTopK(c.num_experts_per_tok, c.num_experts, file, 'num_experts_per_tok');
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
        qkNorm: 'full',
        clipQkv: c.clip_qkv,
      },
      slidingWindow: Array(L).fill(null),
      layerKinds: Array(L).fill('moe'),
      intermediate: c.intermediate_size,
      moeIntermediate: c.intermediate_size,
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
  /** Every layer is MoE: only the expert count, top-k and layer count change. */
  hfConfig(raw, layout) {
    return { config: baseHfConfig(raw, layout, 'num_experts') };
  },
};
