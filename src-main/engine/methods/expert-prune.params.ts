// Declaration of `expert-prune` (family P, METHODS §2.5; REAP from CerebrasResearch/reap): score
// every routed expert on the current model's calibration tokens and remove the lowest-scored ones.
// The amount is a global expert count (§2.2 "experts counted globally"): `expertsRemoved`, a
// `fraction` of all routed experts, the step's own `ratio`, or the budget. Split per layer by
// `strategy`: fixed (§2.3 floor/+1 rule) or threshold (global ranking from a plan pass).
// Knob and accounting from shapes (prune/knob.ts); no tfjs here.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { atMostOneOf, RemovalAmount } from './prune/amount';
import { expertRemovalKnob, fixedRemoval, removalCheck } from './prune/knob';
import { OUTPUT_METRICS, PRUNE_METRICS } from './prune/score-metric';

const AMOUNTS = ['expertsRemoved', 'fraction', 'ratio'] as const;

export const ExpertPruneParams = z
  .object({
    metric: z
      .enum(PRUNE_METRICS)
      .default('activation_frequency')
      .describe(
        "importance per expert: 'activation_frequency' (top-k selections / all, the compression-MoE reference default), 'sum_routing_weights' (Σ of the expert's own softmax probability over the tokens routing to it), 'input_l2_avg' / 'output_l2_avg' (per-call mean ‖x‖ / ‖E(x)‖ averaged over calls with tokens), 'reap' (mean over routed tokens of routing weight × ‖E(x)‖, REAP)",
      ),
    strategy: z
      .enum(['fixed', 'threshold'])
      .default('fixed')
      .describe(
        "per-layer split of the global count: 'fixed' = floor(P/L) each, one more for the first P mod L layers; 'threshold' = the globally lowest scores across layers, no layer below its minimum",
      ),
    ...RemovalAmount,
    calibrateAll: z
      .boolean()
      .default(false)
      .describe(
        'score output_l2_avg / reap on EVERY calibration token (each expert runs on all tokens, weight = its router probability) instead of only the tokens routed to it; costs N/k times the expert compute; the model output still uses the real routing',
      ),
  })
  .strict()
  .superRefine((v, ctx) => {
    atMostOneOf(AMOUNTS)(v, ctx);
    if (v.calibrateAll && !OUTPUT_METRICS.includes(v.metric))
      ctx.addIssue({
        code: 'custom',
        path: ['calibrateAll'],
        message: `calibrateAll only changes the output metrics (${OUTPUT_METRICS.join(', ')}); ${v.metric} ${v.metric === 'input_l2_avg' ? 'would give every expert the same score' : 'comes from the router and does not change'}`,
      });
  })
  .describe('remove the lowest-scored routed experts (compression-MoE P, REAP)');
export type ExpertPruneParams = z.output<typeof ExpertPruneParams>;

export const expertPruneDeclaration: MethodDeclaration<ExpertPruneParams> = {
  id: 'expert-prune',
  family: 'P',
  title: 'Expert pruning',
  description:
    'Remove the routed experts with the lowest importance (frequency, routing weight, activation norms or REAP); router rows sliced, top-k ≤ kept.',
  params: ExpertPruneParams,
  knob: expertRemovalKnob<ExpertPruneParams>(fixedRemoval),
  check: (_p, s) => removalCheck(s),
  statsBytes: (_p, spec) => spec.layers * spec.experts * 16,
  load: async () => (await import('./expert-prune')).expertPrune,
};
