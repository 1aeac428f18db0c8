// Declaration of `expert-drop` (family P, METHODS §4.3, Unified "Expert Drop"): score each expert by
// its router probability mass — Σ_tokens softmax(logits)_e (Mixtral, Qwen, OLMoE, Phi) or the top-k
// weights scattered into a dense vector (DeepSeek's gate), a running mean over calibration
// sequences — and drop the lowest, per layer ('layerwise') or globally ('global', the scripts'
// default). Amount: `preserve` (experts kept per layer on average, Unified preserve_n),
// `expertsRemoved`, `fraction`, the step's `ratio`, or the budget. No tfjs here.
//
// Decisions: a layer never goes below its minExperts (1; 2 for sparsemixer) — the reference's global
// mode may empty a layer (the MoE removed, its norm kept); use layer-drop for that. With `preserve`,
// a layer already at or below `preserve` experts gives up none (the reference's count could go
// negative there). Experts stay in original order, router rows sliced, top-k ← min(top-k, kept),
// as the reference's post-processing (its `preserve_gate` option is not offered).
import { z } from 'zod';
import { liveMoeLayers, type ModelPlanState } from '../pipeline/plan-state';
import type { KnobSpec, MethodDeclaration } from './method';
import { atMostOneOf, RemovalAmount } from './prune/amount';
import { expertRemovalKnob, fixedRemoval, removalCheck, removeExperts } from './prune/knob';

const AMOUNTS = ['preserve', 'expertsRemoved', 'fraction', 'ratio'] as const;

export const ExpertDropParams = z
  .object({
    mode: z
      .enum(['layerwise', 'global'])
      .default('global')
      .describe(
        "'global' = drop the globally lowest scores across the MoE layers (Unified global_pruning, its scripts' default); 'layerwise' = the same count from every layer",
      ),
    score: z
      .enum(['auto', 'softmax_mass', 'topk_mass'])
      .default('auto')
      .describe(
        "'softmax_mass' = Σ_tokens of the full softmax probability; 'topk_mass' = the top-k routing weights scattered into a dense vector; 'auto' = topk_mass for DeepSeek, softmax_mass otherwise (as the reference)",
      ),
    preserve: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'experts kept per MoE layer on average (Unified preserve_n: Mixtral 6 of 8, DeepSeek 48 of 64): expertsRemoved = Σ_l max(0, N_l − preserve)',
      ),
    ...RemovalAmount,
  })
  .strict()
  .superRefine(atMostOneOf(AMOUNTS))
  .describe('Unified Expert Drop: drop the experts with the least router probability mass');
export type ExpertDropParams = z.output<typeof ExpertDropParams>;

/** Per layer max(0, N_l − max(preserve, minExperts_l)). */
function preserveSplit(preserve: number, s: ModelPlanState): Map<number, number> {
  return new Map(
    liveMoeLayers(s).map((l) => [l.layer, Math.max(0, l.experts - Math.max(preserve, l.minExperts))]),
  );
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

const generic = expertRemovalKnob<ExpertDropParams>((p, s) =>
  p.preserve !== undefined ? sum(preserveSplit(p.preserve, s)) : fixedRemoval(p, s),
);

const knob: KnobSpec<ExpertDropParams> = {
  ...generic,
  // `preserve` keeps exactly that many per layer (layerwise) — the §2.3 split of the same total
  // differs when the layers hold different counts
  apply: (p, s, k) => {
    if (p.preserve !== undefined) {
      const split = preserveSplit(p.preserve, s);
      if (sum(split) === k) return removeExperts(s, split);
    }
    return generic.apply(p, s, k);
  },
};

export const expertDropDeclaration: MethodDeclaration<ExpertDropParams> = {
  id: 'expert-drop',
  family: 'P',
  title: 'Expert drop (Unified)',
  description:
    'Drop the routed experts with the least router probability mass, per layer or globally; router rows sliced, top-k ≤ kept.',
  params: ExpertDropParams,
  knob,
  check: (_p, s) => removalCheck(s),
  statsBytes: (_p, spec) => spec.layers * spec.experts * 16,
  load: async () => (await import('./expert-drop')).expertDrop,
};
