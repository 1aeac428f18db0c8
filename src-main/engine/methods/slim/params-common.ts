// Parameters, knob and byte accounting shared by the slimming methods (family S: magnitude, wanda,
// sparsegpt; METHODS §4.1). No tfjs. The knob `sparsity` is fixed by the params: sparsity changes the
// bytes a matrix takes (nonzeros + index), not its parameter count, so S steps take no share of a
// parameter budget.
import { z } from 'zod';
import type { ModelSpec } from '../../model/types';
import type { ModelPlanState } from '../../pipeline/plan-state';
import type { KnobSpec } from '../method';
import {
  type WeightBytesPlan,
  weightBytesPlan,
  weightTargetCheck,
  withLayerStorage,
} from '../weight-targets';
import {
  nmOf,
  prunedCount,
  SLIM_PATTERNS,
  type SlimGeometry,
  type SlimPattern,
  sparseLayout,
} from './accounting';

export const SlimOptions = {
  sparsity: z
    .number()
    .min(0)
    .lt(1)
    .default(0.5)
    .describe(
      'fraction of the weights of every slimmed matrix set to zero (Unified sparsity_ratio; default 0.5)',
    ),
  pattern: z
    .enum(SLIM_PATTERNS)
    .default('2:4')
    .describe(
      "'unstructured', or N:M — zero the N lowest-scored of every M consecutive input columns of each row; N:M needs sparsity 0.5 (Unified default 2:4)",
    ),
  includeShared: z
    .boolean()
    .default(false)
    .describe(
      'also slim the shared expert(s) (the Unified scripts do, unless the DeepSeek "NoShared" variant)',
    ),
  includeRouter: z
    .boolean()
    .default(false)
    .describe(
      "also slim the router (and Qwen's shared_expert_gate): reproduces the Unified reference, whose exclusion of names containing 'gate.' misses Mixtral/Qwen routers; DeepSeek's MoEGate is never slimmed. Off = what the method intends (docs/pipeline-config.md: Slimming and quantization)",
    ),
};

/**
 * Which activations the layers after a slimmed/quantized one calibrate on (METHODS §4, §10.6). The
 * Unified reference writes its results to a separate state dict, so every layer sees the inputs the
 * model produced *before the step* ('dense', its default); the original Wanda/SparseGPT/GPTQ feed each
 * layer the outputs of the already-compressed ones ('compressed').
 */
export const CalibrateOn = z
  .enum(['dense', 'compressed'])
  .default('dense')
  .describe(
    "inputs of the later layers: 'dense' = as the model stood before this step (the Unified reference), 'compressed' = through the layers this step already changed (original Wanda/SparseGPT/GPTQ)",
  );
export type CalibrateOn = z.output<typeof CalibrateOn>;

/** Bytes of the statistics an S/Q step holds for one layer (f64): full Grams or their diagonals. */
export function slimStatsBytes(
  spec: ModelSpec,
  o: { includeShared: boolean; includeRouter?: boolean },
  kind: 'gram' | 'diag',
): number {
  const sq = (n: number) => (kind === 'gram' ? n * n : n);
  let n = spec.experts * (sq(spec.hidden) + sq(spec.moeIntermediate));
  if (o.includeShared && spec.sharedIntermediate > 0) n += sq(spec.hidden) + sq(spec.sharedIntermediate);
  if (o.includeRouter) n += sq(spec.hidden);
  return 8 * n;
}

export const HessianOptions = {
  dampening: z
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .describe('damping added to the Hessian diagonal, as a fraction of its mean (percdamp)'),
  blockSize: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(128)
    .describe('columns processed per lazy-update block'),
};

export interface SlimParams {
  sparsity: number;
  pattern: SlimPattern;
  includeShared: boolean;
  includeRouter: boolean;
}

/** N:M patterns prune exactly N of M: sparsity must be N/M = 0.5. */
export function nmSparsityCheck(p: { sparsity: number; pattern: SlimPattern }, ctx: z.RefinementCtx): void {
  const nm = nmOf(p.pattern);
  if (nm && p.sparsity !== nm.n / nm.m) {
    ctx.addIssue({
      code: 'custom',
      path: ['sparsity'],
      message: `pattern ${p.pattern} zeroes ${nm.n} of every ${nm.m} weights, so it needs sparsity ${nm.n / nm.m}, got ${p.sparsity}`,
    });
  }
}

/** Byte accounting of a slimming step on a state: touched parts before/after, per layer. */
export function slimWeightBytes(geometry: SlimGeometry, blockSize?: number) {
  return <P extends SlimParams & { blockSize?: number }>(
    p: P,
    spec: ModelSpec | null,
    s: ModelPlanState,
  ): WeightBytesPlan =>
    weightBytesPlan(spec, s, p, (m) => {
      const pruned = prunedCount(m.rows, m.cols, p.sparsity, p.pattern, geometry, p.blockSize ?? blockSize);
      const l = sparseLayout(m.rows, m.cols, pruned, p.pattern);
      return { values: l.values, extraBytes: l.indexBytes, zeros: pruned };
    });
}

/** Knob `sparsity`, fixed by the params; the planned state carries each layer's storage. */
export function slimKnob<P extends SlimParams>(
  bytes: (p: P, spec: ModelSpec | null, s: ModelPlanState) => WeightBytesPlan,
): KnobSpec<P> {
  return {
    name: 'sparsity',
    fixed: (p) => p.sparsity,
    range: () => [0, 1],
    apply: (p, s) => withLayerStorage(s, bytes(p, null, s)),
  };
}

export const slimCheck = (s: ModelPlanState) => weightTargetCheck(s, 'slimming');
