// Phi-3.5-MoE: LayerNorm with bias (eps = rms_norm_eps), attention and lm_head biases per config,
// sparsemixer top-2 routing (inference mode), optional "longrope" RoPE scaling.
import { z } from 'zod';
import { EngineError } from '../errors';
import type { ArchAdapter } from './adapter';
import { baseHfConfig, llamaNames, W1_W3_W2 } from './adapter';
import {
  commonFields,
  expertCount,
  headDivisible,
  parseConfig,
  posInt,
  requireSilu,
  ropeSettings,
} from './config';
import type { RopeSpec } from './types';

const schema = z.looseObject({
  ...commonFields({
    vocab: 32064,
    hidden: 4096,
    intermediate: 6400,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    eps: 1e-5,
    theta: 1e6,
  }),
  max_position_embeddings: posInt.default(131072),
  original_max_position_embeddings: posInt.nullable().default(null),
  sliding_window: posInt.nullable().default(null),
  num_local_experts: expertCount.default(16),
  num_experts_per_tok: posInt.default(2),
  router_jitter_noise: z.number().nonnegative().default(0.01),
  attention_bias: z.boolean().default(false),
  lm_head_bias: z.boolean().default(false),
});

type Cfg = z.output<typeof schema>;

function longrope(
  c: Cfg,
  s: Record<string, unknown> | null,
  headDim: number,
  file: string,
): RopeSpec['longrope'] {
  if (s === null) return undefined;
  const kind = String(s.rope_type ?? s.type ?? 'unknown');
  if (kind === 'default') return undefined;
  if (kind !== 'longrope' && kind !== 'su') {
    throw new EngineError(`rope_scaling type '${kind}' is not implemented for phimoe (only 'longrope')`, {
      file,
      field: 'rope_scaling',
    });
  }
  const factors = (key: string): number[] => {
    const v = s[key];
    if (!Array.isArray(v) || v.length !== headDim / 2 || !v.every((x) => typeof x === 'number' && x > 0)) {
      throw new EngineError(`expected ${headDim / 2} positive numbers (head_dim / 2)`, {
        file,
        field: `rope_scaling.${key}`,
      });
    }
    return v as number[];
  };
  const orig = Number(
    s.original_max_position_embeddings ?? c.original_max_position_embeddings ?? c.max_position_embeddings,
  );
  if (!Number.isInteger(orig) || orig <= 0) {
    throw new EngineError('expected a positive integer', {
      file,
      field: 'rope_scaling.original_max_position_embeddings',
    });
  }
  // HF longrope attention factor, overridden by Phi-MoE's short/long mscale when present.
  const scale = c.max_position_embeddings / orig;
  const computed = scale <= 1 ? 1 : Math.sqrt(1 + Math.log(scale) / Math.log(orig));
  const num = (key: string) => (typeof s[key] === 'number' ? (s[key] as number) : computed);
  return {
    shortFactor: factors('short_factor'),
    longFactor: factors('long_factor'),
    originalMaxPositions: orig,
    shortMscale: num('short_mscale'),
    longMscale: num('long_mscale'),
  };
}

export const phimoe: ArchAdapter = {
  modelType: 'phimoe',
  architecture: 'PhimoeForCausalLM',
  parse(raw, file) {
    const c = parseConfig(schema, raw, file);
    requireSilu(c.hidden_act, file);
    const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
    const headDim = headDivisible(c.hidden_size, c.num_attention_heads, kvHeads, file);
    if (c.num_experts_per_tok !== 2) {
      throw new EngineError(`sparsemixer routing is defined for top-2 only, got ${c.num_experts_per_tok}`, {
        file,
        field: 'num_experts_per_tok',
      });
    }
    if (c.num_local_experts < 2)
      throw new EngineError('sparsemixer needs at least 2 experts', { file, field: 'num_local_experts' });
    const L = c.num_hidden_layers;
    const { theta, scaling } = ropeSettings(c, file);
    const lr = longrope(c, scaling, headDim, file);
    return {
      architecture: this.architecture,
      modelType: this.modelType,
      hidden: c.hidden_size,
      layers: L,
      vocab: c.vocab_size,
      norm: { kind: 'layer', eps: c.rms_norm_eps },
      rope: lr ? { theta, rotaryDim: headDim, longrope: lr } : { theta, rotaryDim: headDim },
      attention: {
        heads: c.num_attention_heads,
        kvHeads,
        headDim,
        qkvBias: c.attention_bias,
        oBias: c.attention_bias,
        qkNorm: 'none',
        clipQkv: null,
      },
      slidingWindow: Array(L).fill(c.sliding_window),
      layerKinds: Array(L).fill('moe'),
      intermediate: c.intermediate_size,
      moeIntermediate: c.intermediate_size,
      experts: c.num_local_experts,
      routing: { kind: 'sparsemixer', topK: 2, jitterEps: c.router_jitter_noise },
      sharedExperts: 0,
      sharedIntermediate: 0,
      sharedGate: false,
      tieEmbeddings: c.tie_word_embeddings,
      lmHeadBias: c.lm_head_bias,
      names: llamaNames({ moeBlock: 'block_sparse_moe', expertProj: W1_W3_W2 }),
    };
  },
  /** Every layer is MoE; sparsemixer is top-2 by definition. */
  hfConfig(raw, layout) {
    if (layout.topK !== 2)
      return { reason: `Phi-3.5-MoE's sparsemixer routing is top-2; the layout has top-${layout.topK}` };
    return { config: baseHfConfig(raw, layout, 'num_local_experts') };
  },
};
