// Declaration of `layer-drop` (family T, METHODS §4.4, Unified "Layer Drop"): remove whole MoE
// sub-layers (router, routed and shared experts, and the post-attention norm; the block keeps its
// attention) where the MoE changes the residual stream least: sim_l = mean over calibration tokens
// of cos(a_t, b_t), a = the residual after attention (the post-attention norm's input), b = the
// layer's output a + MoE(norm(a)) — the reference's `layer_drop_norm = True` (its default; the
// False variant, comparing norm(a) with MoE(norm(a)), is not offered). Dense layers are never
// dropped. Similarity is measured on the model before the step (a plan pass), which is the
// reference's original model when this is the first step. No tfjs here.
//
// Knob `layersDropped` in [0, live MoE layers]. The shape plan marks the LAST k live MoE layers;
// which ones really go is the plan pass's decision — exact for the accounting because every MoE
// sub-layer of a model has the same parameters unless an earlier step changed some layers only.
import { z } from 'zod';
import { liveMoeLayers, type ModelPlanState } from '../pipeline/plan-state';
import type { KnobSpec, MethodDeclaration } from './method';
import { StepRatio } from './params-common';
import { atMostOneOf } from './prune/amount';

export const LayerDropParams = z
  .object({
    count: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('MoE sub-layers to drop (Unified drop_n; its scripts: Mixtral 8 of 32, DeepSeek 4)'),
    ratio: StepRatio,
  })
  .strict()
  .superRefine(atMostOneOf(['count', 'ratio']))
  .describe('Unified Layer Drop: remove the MoE sub-layers whose output is most similar to their input');
export type LayerDropParams = z.output<typeof LayerDropParams>;

/** The state with the last k live MoE layers' MoE sub-layer dropped. */
export function dropLastMoe(s: ModelPlanState, k: number): ModelPlanState {
  if (k <= 0) return s;
  const live = liveMoeLayers(s);
  const drop = new Set(live.slice(live.length - k).map((l) => l.layer));
  return { ...s, layers: s.layers.map((l) => (drop.has(l.layer) ? { ...l, ffnDropped: true } : l)) };
}

const knob: KnobSpec<LayerDropParams> = {
  name: 'layersDropped',
  fixed: (p) => p.count ?? null,
  range: (_p, s) => [0, liveMoeLayers(s).length],
  apply: (_p, s, k) => dropLastMoe(s, k),
};

export const layerDropDeclaration: MethodDeclaration<LayerDropParams> = {
  id: 'layer-drop',
  family: 'T',
  title: 'Layer drop (Unified)',
  description:
    'Remove the MoE sub-layers (and their post-attention norm) whose output is most similar to the residual after attention.',
  params: LayerDropParams,
  knob,
  check: (_p, s) => (liveMoeLayers(s).length === 0 ? 'the model has no MoE layer left to drop' : null),
  load: async () => (await import('./layer-drop')).layerDrop,
};
