// Which decoder layers hold a sparse MoE block, per the HF rule of each family.
import { EngineError } from '../errors';

/** Qwen2/Qwen3-MoE: MoE unless listed in mlp_only_layers, every decoder_sparse_step-th layer. */
export function qwenLayerKinds(
  layers: number,
  experts: number,
  sparseStep: number,
  mlpOnly: number[],
  file: string,
): ('moe' | 'dense')[] {
  for (const l of mlpOnly) {
    if (l < 0 || l >= layers) {
      throw new EngineError(`layer ${l} is outside 0..${layers - 1}`, { file, field: 'mlp_only_layers' });
    }
  }
  return Array.from({ length: layers }, (_, l) =>
    !mlpOnly.includes(l) && experts > 0 && (l + 1) % sparseStep === 0 ? 'moe' : 'dense',
  );
}

/** DeepSeek-MoE v1: MoE from first_k_dense_replace on, every moe_layer_freq-th layer. */
export function deepseekLayerKinds(
  layers: number,
  routed: number | null,
  firstDense: number,
  freq: number,
): ('moe' | 'dense')[] {
  return Array.from({ length: layers }, (_, l) =>
    routed !== null && l >= firstDense && l % freq === 0 ? 'moe' : 'dense',
  );
}
