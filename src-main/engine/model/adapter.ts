// An architecture adapter turns one HF config.json into the normalised ModelSpec the executor runs.
import type { ModelSpec, TensorNames } from './types';

export interface ArchAdapter {
  /** config.json `model_type`. */
  modelType: string;
  /** HF class name shown to users. */
  architecture: string;
  parse(raw: Record<string, unknown>, file: string): ModelSpec;
}

/** Llama-style names shared by all six architectures; adapters override the MoE parts. */
export function llamaNames(over: {
  moeBlock: string;
  expertProj: TensorNames['expertProj'];
  sharedExpert?: string;
  sharedExpertGate?: string;
}): TensorNames {
  return {
    embed: 'model.embed_tokens.weight',
    finalNorm: 'model.norm',
    lmHead: 'lm_head',
    layer: (l) => `model.layers.${l}`,
    moe: (l) => `model.layers.${l}.${over.moeBlock}`,
    denseMlp: (l) => `model.layers.${l}.mlp`,
    expertProj: over.expertProj,
    router: 'gate',
    ...(over.sharedExpert ? { sharedExpert: over.sharedExpert } : {}),
    ...(over.sharedExpertGate ? { sharedExpertGate: over.sharedExpertGate } : {}),
  };
}

export const GATE_UP_DOWN = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' } as const;
export const W1_W3_W2 = { gate: 'w1', up: 'w3', down: 'w2' } as const;
