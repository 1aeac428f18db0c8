// Mixtral: softmax over all experts, top-k, always renormalised; experts w1 (gate) / w3 (up) / w2 (down).
import { z } from 'zod';
import type { ArchAdapter } from './adapter';
import { baseHfConfig, llamaNames, W1_W3_W2 } from './adapter';
import {
  commonFields,
  expertCount,
  headDivisible,
  parseConfig,
  posInt,
  requireNoRopeScaling,
  requireSilu,
  requireTopK,
} from './config';

const schema = z.looseObject({
  ...commonFields({
    vocab: 32000,
    hidden: 4096,
    intermediate: 14336,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    eps: 1e-5,
    theta: 1e6,
  }),
  head_dim: posInt.nullable().default(null),
  sliding_window: posInt.nullable().default(null),
  num_local_experts: expertCount.default(8),
  num_experts_per_tok: posInt.default(2),
});

export const mixtral: ArchAdapter = {
  modelType: 'mixtral',
  architecture: 'MixtralForCausalLM',
  parse(raw, file) {
    const c = parseConfig(schema, raw, file);
    requireSilu(c.hidden_act, file);
    const theta = requireNoRopeScaling(c, file);
    const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    const derived = headDivisible(
      c.head_dim ? c.num_attention_heads * c.head_dim : c.hidden_size,
      c.num_attention_heads,
      kvHeads,
      file,
    );
    const headDim = c.head_dim ?? derived;
    requireTopK(c.num_experts_per_tok, c.num_local_experts, file, 'num_experts_per_tok');
    return {
      architecture: this.architecture,
      modelType: this.modelType,
      hidden: c.hidden_size,
      layers: c.num_hidden_layers,
      vocab: c.vocab_size,
      norm: { kind: 'rms', eps: c.rms_norm_eps },
      rope: { theta, rotaryDim: headDim },
      attention: {
        heads: c.num_attention_heads,
        kvHeads,
        headDim,
        qkvBias: false,
        oBias: false,
        qkNorm: 'none',
        clipQkv: null,
      },
      slidingWindow: Array(c.num_hidden_layers).fill(c.sliding_window),
      layerKinds: Array(c.num_hidden_layers).fill('moe'),
      intermediate: c.intermediate_size,
      moeIntermediate: c.intermediate_size,
      experts: c.num_local_experts,
      routing: { kind: 'softmax-topk', topK: c.num_experts_per_tok, normTopK: true, normEps: 0 },
      sharedExperts: 0,
      sharedIntermediate: 0,
      sharedGate: false,
      tieEmbeddings: c.tie_word_embeddings,
      lmHeadBias: false,
      names: llamaNames({ moeBlock: 'block_sparse_moe', expertProj: W1_W3_W2 }),
    };
  },
  /** Every layer is MoE with the same window: only the expert count, top-k and layer count change. */
  hfConfig(raw, layout) {
    return { config: baseHfConfig(raw, layout, 'num_local_experts') };
  },
};
