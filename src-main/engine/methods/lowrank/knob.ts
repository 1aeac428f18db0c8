// The knob of every low-rank step (family D): one absolute rank r for every decomposed expert matrix
// (compression-MoE §2.2 D-step), or fixed by `rank` / `keepRatio`. Accounting per layer from the
// method's params-per-unit-of-rank on that layer's *current* expert count; a layer's cap is its
// break-even rank. Shapes only: no tfjs.

import {
  type LayerPlanState,
  liveMoeLayers,
  type ModelPlanState,
  stateParams,
} from '../../pipeline/plan-state';
import type { KnobSpec } from '../method';
import { rankFromKeepRatio } from './rank';

export interface LayerShape {
  hidden: number;
  intermediate: number;
  experts: number;
  topK: number;
}

export interface RankParams {
  ratio?: number | undefined;
  keepRatio?: number | undefined;
  rank?: number | undefined;
}

export interface LowRankAccounting<P> {
  /** params of one decomposed layer per unit of rank */
  unitPerRank(s: LayerShape, p: P): number;
  /** largest admissible rank of a layer */
  rankCap(s: LayerShape, p: P): number;
  /** of unitPerRank, the params per unit of rank held by every expert as one tensor (a shared V); default 0 */
  sharedPerRank?(s: LayerShape, p: P): number;
}

export const layerShape = (s: ModelPlanState, l: LayerPlanState): LayerShape => ({
  hidden: s.hidden,
  intermediate: s.intermediate,
  experts: l.experts,
  topK: l.topK,
});

/** r·(m+n) per matrix, three matrices of equal (h+I) per expert. */
export function perExpertUnit(s: LayerShape): number {
  return s.experts * 3 * (s.hidden + s.intermediate);
}

/** compression-MoE cap: floor(hI/(h+I)) (§1.4). */
export function perExpertCap(s: { hidden: number; intermediate: number }): number {
  return Math.floor((s.hidden * s.intermediate) / (s.hidden + s.intermediate));
}

/** Layers a low-rank step may decompose: live MoE layers whose experts are still dense. */
export function decomposableLayers(s: ModelPlanState): LayerPlanState[] {
  return liveMoeLayers(s).filter((l) => l.form === 'dense');
}

export function fixedRank(p: RankParams, s: ModelPlanState): number | null {
  // as given: the knob's range check refuses a rank past the cap naming this value (a clamp here
  // made `rank 100000` read "rank 64 is outside [1, 32]")
  if (p.rank !== undefined) return p.rank;
  if (p.keepRatio !== undefined) return Math.max(1, rankFromKeepRatio(p.keepRatio, s.intermediate, s.hidden));
  return null;
}

/** State after decomposing `layers` at rank r. */
export function decompose<P>(
  acc: LowRankAccounting<P>,
  p: P,
  s: ModelPlanState,
  layers: readonly number[],
  r: number,
): ModelPlanState {
  const set = new Set(layers);
  return {
    ...s,
    layers: s.layers.map((l) =>
      set.has(l.layer)
        ? {
            ...l,
            expertParams: r * acc.unitPerRank(layerShape(s, l), p),
            sharedExpertParams: r * (acc.sharedPerRank?.(layerShape(s, l), p) ?? 0),
            form: 'factored' as const,
            rank: r,
          }
        : l,
    ),
  };
}

export function lowRankCheck(s: ModelPlanState): string | null {
  if (decomposableLayers(s).length > 0) return null;
  return liveMoeLayers(s).length === 0
    ? 'the model has no MoE layer left to decompose'
    : 'every MoE layer is already decomposed; a low-rank step needs dense experts';
}

/** Knob of a per-expert low-rank method: every decomposable layer at one rank. */
export function lowRankKnob<P extends RankParams>(acc: LowRankAccounting<P>): KnobSpec<P> {
  const layers = (s: ModelPlanState) => decomposableLayers(s).map((l) => l.layer);
  return {
    name: 'rank',
    fixed: (p, s) => fixedRank(p, s),
    range: (p, s) => {
      const ls = decomposableLayers(s);
      if (ls.length === 0) return [1, 0];
      return [1, Math.max(1, Math.min(...ls.map((l) => acc.rankCap(layerShape(s, l), p))))];
    },
    apply: (p, s, r) => decompose(acc, p, s, layers(s), r),
  };
}

export { stateParams };
