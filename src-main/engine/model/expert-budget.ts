// When a layer's routed experts are read one at a time in the forward. A Mixtral-8x7B layer holds
// 8 × 3 × 4096 × 14336 f32 = 5.6 GiB of experts, more than the 4 GiB wasm heap: above the budget the
// executor reads each routed expert after the router has run and frees it before the next.
import { EngineError } from '../errors';
import type { LoadedModel } from './model';
import { layerNames } from './tensor-names';

/**
 * Default budget: half the wasm heap, leaving room for activations and the attention weights, and
 * above the 1.5 GiB of an OLMoE-1B-7B layer (1.9 GiB for Qwen1.5-MoE-A2.7B): streaming re-reads
 * every routed expert for each batch, which costs those models more than it saves.
 */
export const DEFAULT_LAYER_EXPERT_BUDGET_MB = 2048;

/** Bytes of routed experts a layer may hold resident: MOE_LAYER_BUDGET_MB, else the default. */
export function layerExpertBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MOE_LAYER_BUDGET_MB;
  if (raw === undefined || raw.trim() === '') return DEFAULT_LAYER_EXPERT_BUDGET_MB * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0)
    throw new EngineError(`MOE_LAYER_BUDGET_MB is '${raw}'; expected a number of MiB ≥ 0`, {
      field: 'MOE_LAYER_BUDGET_MB',
      hint: `unset it for the default ${DEFAULT_LAYER_EXPERT_BUDGET_MB} MiB; 0 reads every expert on demand`,
    });
  return mb * 2 ** 20;
}

/** f32 bytes of layer l's routed experts as the checkpoint stores them (headers only, nothing read). */
export function routedExpertBytes(model: LoadedModel, l: number): number {
  const { spec, checkpoint: ck } = model;
  if (spec.layerKinds[l] !== 'moe') return 0;
  const n = layerNames(spec, l);
  let elems = 0;
  for (let e = 0; e < spec.experts; e++)
    for (const p of ['gate', 'up', 'down'] as const)
      elems += ck.info(n.expert(e, p)).shape.reduce((a, b) => a * b, 1);
  return 4 * elems;
}
