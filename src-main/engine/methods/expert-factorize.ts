// Per-expert scaled factorisation shared by svd / asvd / svd-llm: every routed expert matrix W is
// replaced by A·B from factorizeLowRank(W, r, S) with the method's scale S (METHODS §1.2–§1.4, §2.4).

import type { z } from 'zod';
import { fromTensor, toTensor } from '../linalg/matrix';
import type { ExpertWeights, Linear, MoeLayerView, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import { factorizeLowRank } from './lowrank/factorize';
import type { Scale } from './lowrank/scaling';
import type { SvdOptions } from './params-common';

export const PROJECTIONS = ['gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];

export type ScaleFor = (expert: number, proj: Projection, dim: number) => Scale;

export function denseWeight(L: Linear): Tensor2D {
  // a quantized matrix is decomposed as its dequantization (the factors are new f32 weights)
  if (L.kind !== 'dense' && L.kind !== 'quantized')
    throw new Error('low-rank methods decompose dense expert matrices only');
  return L.w;
}

/** A new view with the given experts; router and shared expert are cloned (tfjs clone shares data). */
export function withExperts(view: MoeLayerView, experts: ExpertWeights[]): MoeLayerView {
  const out: MoeLayerView = {
    layer: view.layer,
    router: tf.clone(view.router),
    experts,
    routing: view.routing,
  };
  if (view.routerBias) out.routerBias = tf.clone(view.routerBias);
  if (view.sources) out.sources = view.sources.map((s) => [...s]);
  if (view.shared) {
    const c = (L: Linear): Linear =>
      L.kind === 'dense' || L.kind === 'quantized' ? { ...L, w: tf.clone(L.w) } : L;
    out.shared = { gate: c(view.shared.gate), up: c(view.shared.up), down: c(view.shared.down) };
    if (view.shared.gateWeight) out.shared.gateWeight = tf.clone(view.shared.gateWeight);
  }
  return out;
}

export interface ProjectionError {
  /** Σ_{i>r} σ_i(W·S)² / ‖W·S‖²_F: relative calibration output error for whitening, weight error for S = I */
  relError: number;
  /** 1 − relError: share of the (scaled) singular-value energy kept */
  energyKept: number;
}

export function factorizeExperts(
  view: MoeLayerView,
  rank: number,
  scaleFor: ScaleFor,
  svd: z.output<typeof SvdOptions>,
): { view: MoeLayerView; errors: Record<Projection, ProjectionError>[]; fallbacks: number } {
  let fallbacks = 0;
  const errors: Record<Projection, ProjectionError>[] = [];
  const experts = view.experts.map((ex, e) => {
    const err = {} as Record<Projection, ProjectionError>;
    const out = {} as ExpertWeights;
    for (const p of PROJECTIONS) {
      const W = fromTensor(denseWeight(ex[p]));
      const scale = scaleFor(e, p, W.cols);
      if (scale.kind === 'identity' && scale.fallback) fallbacks++;
      const f = factorizeLowRank(W, Math.min(rank, W.rows, W.cols), scale, svd);
      const rel = f.totalEnergy > 0 ? f.discardedEnergy / f.totalEnergy : 0;
      err[p] = { relError: rel, energyKept: 1 - rel };
      out[p] = { kind: 'factored', A: toTensor(f.A), B: toTensor(f.B) };
    }
    errors.push(err);
    return out;
  });
  return { view: withExperts(view, experts), errors, fallbacks };
}

export function meanErrors(errors: Record<Projection, ProjectionError>[]): Record<Projection, number> {
  const m = { gate: 0, up: 0, down: 0 };
  for (const e of errors) for (const p of PROJECTIONS) m[p] += e[p].relError / errors.length;
  return m;
}
