// The contract between the compression runner and a low-rank method. A method is pure: it gets one
// layer's HF-layout MoE view, that layer's calibration statistics and a rank, and returns a new view
// (factored experts) plus a record for the store. It never reads files or touches the store.
import type { z } from 'zod';
import type { LayerStats, StatsNeeds } from '../calibration/layer-stats';
import type { MoeLayerView } from '../model/types';

export interface MoeShape {
  hidden: number;
  intermediate: number;
  experts: number;
  topK: number;
}

/** Per-layer inputs of a planning pass (MoE-SVD sensitivity): dense-model statistics and weights. */
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
  /** what the method's plan() returned, if it has one */
  plan?: unknown;
}

export interface CompressLayerOutput {
  view: MoeLayerView;
  /** JSON-serialisable layer record (ranks, coverage, errors, energy kept, fallbacks …) */
  record: Record<string, unknown>;
}

export interface CompressionMethod<P = unknown> {
  id: string;
  title: string;
  description: string;
  /** The single declaration of the method's parameters (defaults + .describe docs). */
  params: z.ZodType<P>;
  /** statistics the compress pass needs */
  needs(p: P): StatsNeeds;
  /** params of one decomposed MoE layer per unit of rank (decomposed params = rank · unit) */
  unitPerRank(s: MoeShape, p: P): number;
  /** largest admissible rank (break-even or min(m, n)) */
  rankCap(s: MoeShape, p: P): number;
  /** optional first pass over the dense model (all MoE layers) */
  planPass?: {
    needs(p: P): StatsNeeds;
    /** a second statistics pass fed by the first (e.g. outlier threshold from mean |x|) */
    secondPass?(p: P, first: LayerStats): StatsNeeds | null;
    summarize(input: PlanLayerInput, p: P): Record<string, number>;
  };
  compressLayer(input: CompressLayerInput<P>): CompressLayerOutput;
}
