// Names of the per-expert importance scores (no tfjs: the declarations' zod enums use them).

/** compression-MoE pruning metrics (METHODS §2.5) plus REAP (CerebrasResearch/reap). */
export const PRUNE_METRICS = [
  'activation_frequency',
  'sum_routing_weights',
  'input_l2_avg',
  'output_l2_avg',
  'reap',
] as const;
export type PruneMetric = (typeof PRUNE_METRICS)[number];

/**
 * Unified Expert Drop scores (§4.3): `softmax_mass` = Σ_tokens of the full softmax probability,
 * `topk_mass` = the routing weights of the top-k scattered into a dense vector (DeepSeek); both as a
 * running mean over calibration sequences.
 */
export type DropScore = 'softmax_mass' | 'topk_mass';

export type ScoreMetric = PruneMetric | DropScore;

/** Metrics read from the experts' outputs, the only ones `calibrateAll` (every expert on every token) changes. */
export const OUTPUT_METRICS: readonly PruneMetric[] = ['output_l2_avg', 'reap'];
