// An architecture adapter turns one HF config.json into the normalised ModelSpec the executor runs,
// owns the architecture's tensor-name table (`spec.names`), and says how a plain HF config.json
// describes a compressed layout (fewer experts, a lower top-k, fewer decoder layers).
import type { ModelSpec, TensorNames } from './types';

/** The layout a dense HF export must describe (export/export-model.ts checks everything else). */
export interface HfLayout {
  spec: ModelSpec;
  /** original indices of the decoder layers kept, in order (Block Drop removes the others) */
  keptLayers: number[];
  /** routed experts of every MoE layer (all equal, or the original count when no MoE layer is left) */
  experts: number;
  /** routing top-k of every MoE layer */
  topK: number;
}

/** A config.json for the layout, or why the architecture's config keys cannot say it. */
export type HfConfigResult = { config: Record<string, unknown> } | { reason: string };

export interface ArchAdapter {
  /** config.json `model_type`. */
  modelType: string;
  /** HF class name shown to users. */
  architecture: string;
  parse(raw: Record<string, unknown>, file: string): ModelSpec;
  /** The source config.json rewritten for a dense HF export of `layout` (input not mutated). */
  hfConfig(raw: Record<string, unknown>, layout: HfLayout): HfConfigResult;
}

/** Llama-style names shared by all six architectures; adapters give the MoE parts. */
export function llamaNames(over: {
  moeBlock: string;
  expertProj: TensorNames['expertProj'];
  sharedExpert?: string;
  sharedExpertGate?: string;
}): TensorNames {
  const layer = (l: number) => `model.layers.${l}`;
  return {
    embed: 'model.embed_tokens.weight',
    finalNorm: 'model.norm',
    lmHead: 'lm_head',
    layer,
    inputNorm: 'input_layernorm',
    postNorm: 'post_attention_layernorm',
    attention: 'self_attn',
    attnProj: { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj' },
    qkNorm: { q: 'q_norm', k: 'k_norm' },
    moe: (l) => `${layer(l)}.${over.moeBlock}`,
    denseMlp: (l) => `${layer(l)}.mlp`,
    mlpProj: GATE_UP_DOWN,
    experts: 'experts',
    expertProj: over.expertProj,
    router: 'gate',
    ...(over.sharedExpert ? { sharedExpert: over.sharedExpert } : {}),
    ...(over.sharedExpertGate ? { sharedExpertGate: over.sharedExpertGate } : {}),
  };
}

export const GATE_UP_DOWN = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' } as const;
export const W1_W3_W2 = { gate: 'w1', up: 'w3', down: 'w2' } as const;

// ---- dense HF export: config keys common to the families ------------------------------------------

/** Whether Block Drop removed any layer. */
export function layersDropped(layout: HfLayout): boolean {
  return layout.keptLayers.length !== layout.spec.layers;
}

/**
 * The config keys every family shares: `num_hidden_layers`, `num_experts_per_tok`, the expert-count
 * key, and a per-layer `layer_types` list (transformers v5) cut to the kept layers.
 */
export function baseHfConfig(
  raw: Record<string, unknown>,
  layout: HfLayout,
  expertsKey: string,
): Record<string, unknown> {
  const c: Record<string, unknown> = structuredClone(raw);
  c.num_hidden_layers = layout.keptLayers.length;
  if (layout.spec.layerKinds.includes('moe')) {
    c[expertsKey] = layout.experts;
    c.num_experts_per_tok = layout.topK;
  }
  if (Array.isArray(raw.layer_types) && raw.layer_types.length === layout.spec.layers)
    c.layer_types = layout.keptLayers.map((l) => (raw.layer_types as unknown[])[l]);
  return c;
}

/** The MoE/dense pattern of the kept layers, in their new order. */
export function keptKinds(layout: HfLayout): ('moe' | 'dense')[] {
  return layout.keptLayers.map((l) => layout.spec.layerKinds[l]!);
}

/**
 * Qwen2/Qwen3-MoE: which layers are dense after Block Drop, said with `mlp_only_layers` (and
 * `decoder_sparse_step` 1, so that every other layer is MoE).
 */
export function qwenLayerKeys(c: Record<string, unknown>, layout: HfLayout): void {
  if (!layersDropped(layout)) return;
  c.decoder_sparse_step = 1;
  c.mlp_only_layers = keptKinds(layout).flatMap((k, i) => (k === 'dense' ? [i] : []));
}
