// Expert-by-expert low-rank compression of one layer (svd, asvd, svd-llm): for each routed expert in
// turn, read its three matrices, build its statistics from the layer capture (input side first, then
// the intermediate side, so the two Grams are never held together), whiten/scale, factorise, keep
// only the host factors, free everything else, next expert. Peak memory is one expert's working set
// plus the layer's factors; it does not grow with the number of experts. The factors become tensors
// once, in the new view, after the last expert.
import type { z } from 'zod';
import type { MoeInputCapture } from '../../calibration/moe-input-capture';
import {
  type RoutedStatistics,
  routedInputStatistics,
  routedIntermediateStatistics,
  type StatisticsNeeds,
} from '../../calibration/routed-statistics';
import { fromTensor } from '../../linalg/matrix';
import type { MoeLayerView, Tensor2D } from '../../model/types';
import { denseWeight, PROJECTIONS, type Projection, type ProjectionError } from '../expert-factorize';
import type { SvdOptions } from '../params-common';
import type { ExpertSource, Factors } from './expert-source';
import { factorizeLowRank } from './factorize';
import type { Scale } from './scaling';

/** What a per-expert low-rank method says; the loop is shared. */
export interface ExpertLowRank<P> {
  id: string;
  /** statistics of each expert's inputs (gate, up) and intermediates (down) the scale needs */
  statistics(p: P): StatisticsNeeds;
  /** S for one side of one expert; `stats` undefined when the method needs none */
  scale(p: P, stats: RoutedStatistics | undefined, dim: number): Scale;
  svd(p: P): z.output<typeof SvdOptions>;
  /** the layer record from the per-expert results */
  record(p: P, r: LayerOutcome): Record<string, unknown>;
}

export interface LayerOutcome {
  rank: number;
  /** routed tokens per expert */
  tokens: number[];
  errors: Record<Projection, ProjectionError>[];
  /** projections whose scale fell back to identity (3 per expert with no usable statistics) */
  fallbacks: number;
}

export interface ExpertProbe {
  expert: number;
  /** host bytes of the factors kept so far (all experts ≤ this one) */
  factorBytes: number;
}

export interface ExpertByExpertInput<P> {
  method: ExpertLowRank<P>;
  params: P;
  rank: number;
  source: ExpertSource;
  capture: MoeInputCapture;
  /** called after each expert is done and its working set freed (tests measure memory here) */
  afterExpert?(probe: ExpertProbe): void;
}

const needsAny = (n: StatisticsNeeds) => n.gram || n.absMean;

export function compressExpertByExpert<P>(input: ExpertByExpertInput<P>): {
  view: MoeLayerView;
  record: Record<string, unknown>;
} {
  const { method: m, params, rank, source, capture } = input;
  const needs = m.statistics(params);
  const svd = m.svd(params);
  const factors: Record<Projection, Factors>[] = [];
  const errors: Record<Projection, ProjectionError>[] = [];
  let fallbacks = 0;
  let factorBytes = 0;
  for (let e = 0; e < source.count; e++) {
    const borrowed = source.expert(e);
    try {
      const w = borrowed.weights;
      const out = {} as Record<Projection, Factors>;
      const err = {} as Record<Projection, ProjectionError>;
      const factor = (p: Projection, scale: Scale) => {
        const W = fromTensor(denseWeight(w[p]));
        if (scale.kind === 'identity' && scale.fallback) fallbacks++;
        const f = factorizeLowRank(W, Math.min(rank, W.rows, W.cols), scale, svd);
        const rel = f.totalEnergy > 0 ? f.discardedEnergy / f.totalEnergy : 0;
        err[p] = { relError: rel, energyKept: 1 - rel };
        out[p] = { A: f.A, B: f.B };
        factorBytes += f.A.data.byteLength + f.B.data.byteLength;
      };
      // input side: one scale shared by gate and up, dropped before the intermediate side is built;
      // the statistics are a temporary argument, so nothing holds a Gram once its scale exists
      const inputSide = () => {
        const s = m.scale(
          params,
          needsAny(needs) ? routedInputStatistics(capture, e, needs) : undefined,
          denseWeight(w.gate).shape[1],
        );
        factor('gate', s);
        factor('up', s);
      };
      inputSide();
      const gateUp = { gate: denseWeight(w.gate) as Tensor2D, up: denseWeight(w.up) as Tensor2D };
      factor(
        'down',
        m.scale(
          params,
          needsAny(needs) ? routedIntermediateStatistics(capture, e, gateUp, needs) : undefined,
          denseWeight(w.down).shape[1],
        ),
      );
      factors.push(out);
      errors.push(err);
    } finally {
      borrowed.release();
    }
    input.afterExpert?.({ expert: e, factorBytes });
  }
  const view = source.finish(factors);
  const tokens = Array.from({ length: source.count }, (_, e) => capture.counts[e] ?? 0);
  return { view, record: m.record(params, { rank, tokens, errors, fallbacks }) };
}

export { PROJECTIONS };
