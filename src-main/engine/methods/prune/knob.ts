// The knob of every expert-removal step (expert-prune, expert-drop): `expertsRemoved`, a global count
// over the live MoE layers (METHODS §2.2 "experts counted globally"). From shapes only: the state
// after removing k experts takes the §2.3 `fixed` split (distributeRemovals, floor(k/L) each and one
// more for the first k mod L layers, never below a layer's minExperts), so each layer loses
// `expertParams/experts` per expert and its router row, and top-k becomes min(top-k, kept).
// A step that decides the split itself (strategy threshold, global expert drop) removes the same
// number of experts; its params match this plan exactly when every live MoE layer has the same
// per-expert size, which holds for dense experts and for one uniform low-rank step before it.
// Experts sharing factor tensors (MoE-SVD's shared V / kept U's) are not per-expert sized: there the
// plan is an estimate and the run's accounting (of the real views) is what counts. No tfjs.
import { distributeRemovals } from '../../pipeline/distribute';
import {
  type LayerPlanState,
  liveMoeLayers,
  type ModelPlanState,
  routedExperts,
  withExpertCount,
} from '../../pipeline/plan-state';
import type { KnobSpec } from '../method';

export interface RemovalParams {
  expertsRemoved?: number | undefined;
  fraction?: number | undefined;
}

/** Most experts the live MoE layers can give up together (each keeps minExperts). */
export function removalRoom(s: ModelPlanState): number {
  return liveMoeLayers(s).reduce((a, l) => a + Math.max(0, l.experts - l.minExperts), 0);
}

/** Experts removed per live MoE layer for a global count (§2.3 fixed), or null beyond the room. */
export function fixedSplit(s: ModelPlanState, total: number): Map<number, number> | null {
  const live = liveMoeLayers(s);
  const counts = distributeRemovals(
    total,
    live.map((l) => l.experts),
    live.map((l) => l.minExperts),
  );
  return counts ? new Map(live.map((l, i) => [l.layer, counts[i]!])) : null;
}

/** One layer's state with `n` of its routed experts removed. */
export function withoutExperts(l: LayerPlanState, n: number): LayerPlanState {
  return n <= 0 ? l : withExpertCount(l, l.experts - n);
}

/** The state after removing `perLayer.get(l)` experts from each layer l. */
export function removeExperts(s: ModelPlanState, perLayer: ReadonlyMap<number, number>): ModelPlanState {
  return { ...s, layers: s.layers.map((l) => withoutExperts(l, perLayer.get(l.layer) ?? 0)) };
}

/** expertsRemoved, or round(fraction · routed experts), or null (the budget decides). */
export function fixedRemoval(p: RemovalParams, s: ModelPlanState): number | null {
  if (p.expertsRemoved !== undefined) return p.expertsRemoved;
  if (p.fraction !== undefined) return Math.round(p.fraction * routedExperts(s).experts);
  return null;
}

export function expertRemovalKnob<P>(fixed: (p: P, s: ModelPlanState) => number | null): KnobSpec<P> {
  return {
    name: 'expertsRemoved',
    fixed,
    range: (_p, s) => [0, removalRoom(s)],
    apply: (_p, s, k) => {
      const split = fixedSplit(s, k);
      if (!split)
        throw new RangeError(`cannot remove ${k} experts; the live MoE layers can give up ${removalRoom(s)}`);
      return removeExperts(s, split);
    },
  };
}

/** Why a removal step cannot run on this state, or null. */
export function removalCheck(s: ModelPlanState): string | null {
  return liveMoeLayers(s).length === 0 ? 'the model has no MoE layer left to remove experts from' : null;
}
