// Parameters shared by every low-rank method (declared once here, merged into each method's schema).
import { z } from 'zod';
import type { ModelSpec } from '../model/types';

/** positive-definite repair variants of the Gram before Cholesky (linalg/pd-repair) */
export const PdRepair = z.enum(['none', 'shift-min-eig', 'clamp-eig', 'shift-all']);

/** every expert's Gram accumulators of one layer at once, f64 (inputs h×h and intermediates I×I): the whole-layer schedule (MoE-SVD, D²-MoE) */
export function gramBytes(spec: ModelSpec): number {
  return 2 * 8 * spec.experts * (spec.hidden ** 2 + spec.moeIntermediate ** 2);
}

export const SvdOptions = z
  .object({
    method: z
      .enum(['auto', 'exact', 'randomized'])
      .default('auto')
      .describe(
        "SVD of W·S: 'exact' (f64 Golub–Kahan), 'randomized' (HMT on the tfjs backend) or 'auto' (randomized unless the matrix is small or the sketch would cover it)",
      ),
    oversampling: z
      .number()
      .int()
      .min(0)
      .max(256)
      .default(10)
      .describe('randomized SVD: extra sketch columns beyond the rank'),
    powerIters: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(4)
      .describe(
        'randomized SVD: power iterations (4 keeps the error within 1 % of the exact SVD on slowly decaying spectra)',
      ),
    seed: z.number().int().default(0).describe('randomized SVD: seed of the Gaussian test matrix'),
  })
  .strict()
  .default({ method: 'auto', oversampling: 10, powerIters: 4, seed: 0 })
  .describe('how the truncated SVD is computed');

/** A step's own amount as a whole-model target (budget.ts: explicit knob > this > the budget share). */
export const StepRatio = z
  .number()
  .min(0)
  .lt(1)
  .optional()
  .describe(
    'whole-model compression ratio 1 − params_after/params_before the model should have after this step; takes the step out of the target.contributions split',
  );

export const RankOptions = {
  ratio: StepRatio,
  keepRatio: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .describe(
      'per-matrix keep ratio instead of a whole-model target: r = floor(keep·m·n/(m+n)) (docs/pipeline-config.md: Methods and their parameters)',
    ),
  rank: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('explicit rank of every decomposed matrix (overrides ratio and keepRatio)'),
};
