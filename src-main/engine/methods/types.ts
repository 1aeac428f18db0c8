// What a low-rank method implements (family D: svd, asvd, svd-llm, moe-svd): one layer's dense MoE
// view, that layer's calibration statistics and a rank in, factored experts and a record out. The
// step contract (method.ts) wraps it through lowrank/as-step.ts; accounting lives in the declaration.
import type { LayerStats, StatsNeeds } from '../calibration/layer-stats';
import type { MoeLayerView } from '../model/types';

/** Per-layer inputs of a planning pass (MoE-SVD sensitivity): current-model statistics and weights. */
export interface PlanLayerInput {
  layer: number;
  stats: LayerStats;
  view: MoeLayerView;
}

export interface CompressLayerInput<P> {
  view: MoeLayerView;
  stats: LayerStats;
  rank: number;
  params: P;
}

export interface CompressLayerOutput {
  view: MoeLayerView;
  /** JSON-serialisable layer record (ranks, coverage, errors, energy kept, fallbacks …) */
  record: Record<string, unknown>;
}

export interface LowRankMethod<P = unknown> {
  id: string;
  /** statistics the compress pass needs */
  needs(p: P): StatsNeeds;
  /** optional first pass over the current model (all MoE layers): per-layer summary with `sensitivity` */
  planPass?: {
    needs(p: P): StatsNeeds;
    /** a second statistics pass fed by the first (e.g. outlier threshold from mean |x|) */
    secondPass?(p: P, first: LayerStats): StatsNeeds | null;
    summarize(input: PlanLayerInput, p: P): Record<string, number>;
  };
  compressLayer(input: CompressLayerInput<P>): CompressLayerOutput;
}
