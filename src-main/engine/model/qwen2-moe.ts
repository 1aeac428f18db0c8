// Qwen1.5/Qwen2-MoE: q/k/v biases, shared expert scaled by sigmoid(shared_expert_gate(x)),
// decoder_sparse_step + mlp_only_layers, renormalisation per norm_topk_prob.
import { z } from 'zod';
import { EngineError } from '../errors';
import type { ArchAdapter } from './adapter';
import { baseHfConfig, GATE_UP_DOWN, layersDropped, llamaNames, qwenLayerKeys } from './adapter';
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
    intermediate: 5632,
    layers: 24,
    heads: 16,
    kvHeads: 16,
    eps: 1e-6,
    theta: 10000,
  }),
  head_dim: posInt.nullable().default(null),
  qkv_bias: z.boolean().default(true),
  layer_types: z
    .array(z.enum(['sliding_attention', 'full_attention']))
    .nullable()
    .default(null),
  use_sliding_window: z.boolean().default(false),
  sliding_window: posInt.nullable().default(4096),
  max_window_layers: nonNegInt.default(28),
  decoder_sparse_step: posInt.default(1),
  moe_intermediate_size: posInt.default(1408),
  shared_expert_intermediate_size: nonNegInt.default(5632),
  num_experts_per_tok: posInt.default(4),
  num_experts: expertCountOrZero.default(60),
  norm_topk_prob: z.boolean().default(false),
  mlp_only_layers: z.array(nonNegInt).nullable().default([]),
});

export const qwen2Moe: ArchAdapter = {
  modelType: 'qwen2_moe',
  architecture: 'Qwen2MoeForCausalLM',
  parse(raw, file) {
    const c = parseConfig(schema, raw, file);
    requireSilu(c.hidden_act, file);
    const theta = requireNoRopeScaling(c, file);
    const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    const headDim = c.head_dim ?? headDivisible(c.hidden_size, c.num_attention_heads, kvHeads, file);
    headDivisible(c.num_attention_heads * headDim, c.num_attention_heads, kvHeads, file);
    if (c.num_experts > 0) requireTopK(c.num_experts_per_tok, c.num_experts, file, 'num_experts_per_tok');
    const L = c.num_hidden_layers;
    if (c.layer_types && c.layer_types.length !== L) {
      throw new EngineError(`expected ${L} entries (num_hidden_layers)`, { file, field: 'layer_types' });
    }
    // transformers v5 rule when layer_types is absent: even-indexed layers below max_window_layers.
    const sliding = (l: number) =>
      c.layer_types
        ? c.layer_types[l] === 'sliding_attention'
        : c.use_sliding_window && (l + 1) % 2 === 1 && l < c.max_window_layers;
    const window = (l: number) => (c.use_sliding_window && sliding(l) ? c.sliding_window : null);
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
        qkvBias: c.qkv_bias,
        oBias: false,
        qkNorm: 'none',
        clipQkv: null,
      },
      slidingWindow: Array.from({ length: L }, (_, l) => window(l)),
      layerKinds: qwenLayerKinds(L, c.num_experts, c.decoder_sparse_step, c.mlp_only_layers ?? [], file),
      intermediate: c.intermediate_size,
      moeIntermediate: c.moe_intermediate_size,
      experts: c.num_experts,
      routing: { kind: 'softmax-topk', topK: c.num_experts_per_tok, normTopK: c.norm_topk_prob, normEps: 0 },
      sharedExperts: c.shared_expert_intermediate_size > 0 ? 1 : 0,
      sharedIntermediate: c.shared_expert_intermediate_size,
      sharedGate: c.shared_expert_intermediate_size > 0,
      tieEmbeddings: c.tie_word_embeddings,
      lmHeadBias: false,
      names: llamaNames({
        moeBlock: 'mlp',
        expertProj: GATE_UP_DOWN,
        sharedExpert: 'shared_expert',
        sharedExpertGate: 'shared_expert_gate',
      }),
    };
  },
  /**
   * Dense layers after Block Drop are listed in mlp_only_layers; the sliding-window layers (an
   * even-index rule below max_window_layers) are written out as layer_types, and max_window_layers
   * counts the kept layers below the old threshold.
   */
  hfConfig(raw, layout) {
    const config = baseHfConfig(raw, layout, 'num_experts');
    qwenLayerKeys(config, layout);
    if (layersDropped(layout)) {
      const mwl = typeof raw.max_window_layers === 'number' ? raw.max_window_layers : 28;
      config.max_window_layers = layout.keptLayers.filter((l) => l < mwl).length;
      if (raw.use_sliding_window === true && !Array.isArray(raw.layer_types))
        config.layer_types = layout.keptLayers.map((l) =>
          layout.spec.slidingWindow[l] !== null ? 'sliding_attention' : 'full_attention',
        );
    }
    return { config };
  },
};
