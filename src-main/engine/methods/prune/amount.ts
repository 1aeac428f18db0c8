// How much a removal step (expert-prune, expert-drop) takes away, as zod fields shared by their
// declarations: a global expert count, a fraction of all routed experts, the step's own whole-model
// ratio, or nothing (the budget decides, METHODS §2.2). At most one of them may be given.
import { z } from 'zod';
import { StepRatio } from '../params-common';

export const RemovalAmount = {
  expertsRemoved: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'routed experts to remove in total, counted globally across the MoE layers; split over the layers by the strategy (docs/pipeline-config.md: Pruning and trimming methods)',
    ),
  fraction: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe(
      'share of all routed experts of the current model to remove: expertsRemoved = round(fraction · total)',
    ),
  ratio: StepRatio,
};

/**
 * A zod refinement: at most one of `keys` is set. Reports on the second key given, so the error names
 * the field (`steps.0.params.fraction`).
 */
export function atMostOneOf(keys: readonly string[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const given = keys.filter((k) => v[k] !== undefined);
    if (given.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [given[1]!],
        message: `give at most one amount (${keys.join(', ')}), got ${given.join(' and ')}; without any, the budget decides`,
      });
  };
}
