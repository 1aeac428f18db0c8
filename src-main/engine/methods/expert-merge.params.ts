// Declaration of `expert-merge` (family M, METHODS §2.6; HC-SMoE as an option): per MoE layer, group
// the routed experts by similarity and fuse every group into one expert; the group's router row is
// the mean of its members' rows, top-k ← min(top-k, groups), shared experts untouched.
// The amount is a global group count (= routed experts kept after merging, §2.2 M): `groups`, a
// `fraction` of all routed experts kept, the step's own `ratio`, or the budget; per layer by §2.3
// (floor(G/L), one more for the LAST G mod L layers) through the shared `groupKnob`. No tfjs here.
import { z } from 'zod';
import { liveMoeLayers, type ModelPlanState, routedExperts } from '../pipeline/plan-state';
import { groupKnob } from './merge/knob';
import type { MethodDeclaration } from './method';
import { StepRatio, SvdOptions } from './params-common';

const AMOUNTS = ['groups', 'fraction', 'ratio'] as const;

export const ExpertMergeParams = z
  .object({
    grouping: z
      .enum(['dominant', 'global', 'hc-smoe'])
      .default('dominant')
      .describe(
        "'dominant' = the g_l most frequently routed experts lead, every other expert joins its most similar leader (compression-MoE reference); 'global' = single-linkage agglomerative clustering down to g_l clusters; 'hc-smoe' = average-linkage clustering of the experts' mean outputs, frequency-weighted merging (HC-SMoE)",
      ),
    similarity: z
      .enum(['weight', 'router_logits', 'output'])
      .default('weight')
      .describe(
        "what is compared (docs/pipeline-config.md: Merging): 'weight' = flattened projections (A and B concatenated for factored experts), averaged over gate/up/down; 'router_logits' = each expert's column of router logits per calibration batch; 'output' = routing-weighted expert outputs per batch, mean-subtracted and L2-normalised. Not used by hc-smoe (its features are the mean expert outputs)",
      ),
    metric: z
      .enum(['l2', 'cosine'])
      .default('l2')
      .describe(
        "'l2' = smallest L2 distance is most similar (reference default, fused by LERP); 'cosine' = largest cosine similarity (fused by SLERP)",
      ),
    fusion: z
      .enum(['auto', 'lerp', 'slerp', 'frequency'])
      .default('auto')
      .describe(
        "'auto' = as the reference couples it: l2 → LERP, cosine → SLERP (hc-smoe → frequency); 'lerp' = element-wise mean; 'slerp' = sequential SLERP acc = slerp(acc, M_i, 1/i); 'frequency' = mean weighted by the members' routing frequency",
      ),
    factoredMerge: z
      .enum(['factors', 'reconstruct'])
      .default('factors')
      .describe(
        "already factored experts (D before M): 'factors' = fuse A and B separately with the same rule (reference); 'reconstruct' = fuse the products A·B and re-factorise at the same rank by truncated SVD",
      ),
    groups: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'routed experts kept after merging, counted globally across the MoE layers; split over the layers as docs/pipeline-config.md describes (Merging)',
      ),
    fraction: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe('share of all routed experts of the current model KEPT: groups = round(fraction · total)'),
    ratio: StepRatio,
    svd: SvdOptions,
  })
  .strict()
  .superRefine((v, ctx) => {
    const given = AMOUNTS.filter((k) => v[k] !== undefined);
    if (given.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [given[1]!],
        message: `give at most one amount (${AMOUNTS.join(', ')}), got ${given.join(' and ')}; without any, the budget decides`,
      });
  })
  .describe('merge similar routed experts into groups (compression-MoE M, HC-SMoE)');
export type ExpertMergeParams = z.output<typeof ExpertMergeParams>;

/** groups, or round(fraction · routed experts), or null (the budget decides). */
export function fixedGroups(p: ExpertMergeParams, s: ModelPlanState): number | null {
  if (p.groups !== undefined) return p.groups;
  if (p.fraction !== undefined) return Math.round(p.fraction * routedExperts(s).experts);
  return null;
}

export function mergeCheck(s: ModelPlanState): string | null {
  const live = liveMoeLayers(s);
  if (live.length === 0) return 'the model has no MoE layer left to merge experts in';
  const mixed = live.find((l) => l.form === 'mixed');
  if (mixed) return `layer ${mixed.layer} mixes dense and factored experts; merging needs one form per layer`;
  return null;
}

export const expertMergeDeclaration: MethodDeclaration<ExpertMergeParams> = {
  id: 'expert-merge',
  family: 'M',
  title: 'Expert merging',
  description:
    'Group similar routed experts (dominant-expert, single-linkage or HC-SMoE clustering) and fuse each group (LERP, SLERP or frequency-weighted); router row = mean of the members, top-k ≤ groups.',
  params: ExpertMergeParams,
  knob: groupKnob<ExpertMergeParams>(fixedGroups),
  check: (_p, s) => mergeCheck(s),
  // f64 N×N similarity sums (three per pass at most) and the per-expert output sums for hc-smoe
  statsBytes: (_p, spec) => 8 * (4 * spec.experts ** 2 + 2 * spec.experts * spec.hidden),
  load: async () => (await import('./expert-merge')).expertMerge,
};
