// Expert-by-expert low-rank compression of one layer (svd, asvd, svd-llm): for each routed expert in
// turn, read its three matrices, build its statistics from the layer capture (input side first, then
// the intermediate side, so the two Grams are never held together), whiten/scale, factorise, keep
// only the host factors, free everything else, next expert. Peak memory is one expert's working set
// plus the layer's factors; it does not grow with the number of experts. The factors become tensors
// once, in the new view, after the last expert.
// With a whitening thread (and shapes small enough, memory-schedule whiteningOverlaps) the Grams of
// expert e+1 are built and handed to that thread before expert e is factorised, so e+1's whitening
// runs on the second core meanwhile; results are bit-identical to the sequential order.
import type { z } from 'zod';
import type { MoeInputCapture } from '../../calibration/moe-input-capture';
import {
  type RoutedStatistics,
  routedInputStatistics,
  routedIntermediateStatistics,
  type StatisticsNeeds,
} from '../../calibration/routed-statistics';
import { fromTensor } from '../../linalg/matrix';
import type { ExpertWeights, MoeLayerView, Tensor2D } from '../../model/types';
import { denseWeight, PROJECTIONS, type Projection, type ProjectionError } from '../expert-factorize';
import type { SvdOptions } from '../params-common';
import type { ExpertSource, Factors } from './expert-source';
import { factorizeLowRank } from './factorize';
import { type RepairKind, whiteningOverlaps } from './memory-schedule';
import type { Scale } from './scaling';
import type { Whitener } from './whitening-thread';

/** What a per-expert low-rank method says; the loop is shared. */
export interface ExpertLowRank<P> {
  id: string;
  /** statistics of each expert's inputs (gate, up) and intermediates (down) the scale needs */
  statistics(p: P): StatisticsNeeds;
  /**
   * S for one side of one expert; `stats` undefined when the method needs none. With a whitener a
   * whitening is computed there (its Gram's buffer moves to it) and the result is a promise.
   */
  scale(p: P, stats: RoutedStatistics | undefined, dim: number, whitener?: Whitener): Scale | Promise<Scale>;
  /** the positive-definite repair of a whitening method (sizes its working set) */
  repair?(p: P): RepairKind;
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
  /** where whitenings may run while the previous expert is factorised (none: all in this thread, in order) */
  whitener?: Whitener | null;
  /** compute threads (wantedThreads): overlap needs two */
  threads?: number;
}

const needsAny = (n: StatisticsNeeds) => n.gram || n.absMean;

/** what the loop started for one expert: both scales when overlapped, only the input side otherwise */
interface Started {
  inScale: Scale | Promise<Scale>;
  midScale?: Scale | Promise<Scale>;
}

// a promise the loop may drop on an error: its rejection is then not "unhandled"
const quiet = (s: Scale | Promise<Scale> | undefined) => {
  if (s instanceof Promise) s.catch(() => {});
  return s;
};

export async function compressExpertByExpert<P>(input: ExpertByExpertInput<P>): Promise<{
  view: MoeLayerView;
  record: Record<string, unknown>;
}> {
  const { method: m, params, rank, source, capture } = input;
  const needs = m.statistics(params);
  const svd = m.svd(params);
  const factors: Record<Projection, Factors>[] = [];
  const errors: Record<Projection, ProjectionError>[] = [];
  let fallbacks = 0;
  let factorBytes = 0;
  const inputStats = (e: number) => (needsAny(needs) ? routedInputStatistics(capture, e, needs) : undefined);
  const gateUp = (w: ExpertWeights) => ({
    gate: denseWeight(w.gate) as Tensor2D,
    up: denseWeight(w.up) as Tensor2D,
  });
  const midStats = (e: number, w: ExpertWeights) =>
    needsAny(needs) ? routedIntermediateStatistics(capture, e, gateUp(w), needs) : undefined;
  const inDim = (w: ExpertWeights) => denseWeight(w.gate).shape[1];
  const midDim = (w: ExpertWeights) => denseWeight(w.down).shape[1];

  // overlapped (decided on the first expert's shapes): expert e+1's Grams go to the whitening thread
  // before expert e is factorised, and e+1's weights are read again when its turn comes, so only one
  // expert's are held; sequential: only the input side up front, the intermediate scale after gate/up
  // are factorised, as the memory schedule says
  let whitener: Whitener | undefined;
  const overlapped = (w: ExpertWeights): Whitener | undefined =>
    input.whitener &&
    needs.gram &&
    source.count > 1 &&
    whiteningOverlaps({
      hidden: inDim(w),
      intermediate: midDim(w),
      repair: m.repair?.(params) ?? 'shift-min-eig',
      threads: input.threads ?? 2,
    })
      ? input.whitener
      : undefined;
  const both = (e: number, w: ExpertWeights, wh: Whitener): Started => ({
    inScale: quiet(m.scale(params, inputStats(e), inDim(w), wh))!,
    midScale: quiet(m.scale(params, midStats(e, w), midDim(w), wh)),
  });
  const start = (e: number, wh: Whitener): Started => {
    const b = source.expert(e);
    try {
      return both(e, b.weights, wh);
    } finally {
      b.release();
    }
  };
  let next: Started | null = null;
  for (let e = 0; e < source.count; e++) {
    const borrowed = source.expert(e);
    try {
      const w = borrowed.weights;
      if (e === 0) whitener = overlapped(w);
      const cur: Started =
        next ?? (whitener ? both(e, w, whitener) : { inScale: m.scale(params, inputStats(e), inDim(w)) });
      next = null;
      if (whitener && e + 1 < source.count) next = start(e + 1, whitener);
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
      {
        const s = await cur.inScale;
        factor('gate', s);
        factor('up', s);
      }
      cur.inScale = IDLE;
      factor('down', await (cur.midScale ?? m.scale(params, midStats(e, w), midDim(w))));
      factors.push(out);
      errors.push(err);
    } catch (err) {
      if (next) {
        // the next expert's whitenings may still be running: let them settle unobserved
        quiet(next.inScale);
        quiet(next.midScale);
      }
      throw err;
    } finally {
      borrowed.release();
    }
    input.afterExpert?.({ expert: e, factorBytes });
  }
  const view = source.finish(factors);
  const tokens = Array.from({ length: source.count }, (_, e) => capture.counts[e] ?? 0);
  return { view, record: m.record(params, { rank, tokens, errors, fallbacks }) };
}

// what a consumed scale is replaced by, so its S and S⁻¹ can be collected during the down side
const IDLE: Scale = { kind: 'identity', dim: 0 };

export { PROJECTIONS };
