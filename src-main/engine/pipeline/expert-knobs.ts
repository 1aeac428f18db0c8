// Global expert-count knobs of §2.2, shared by every family that changes the number of routed
// experts (P: experts removed, M: groups kept), with the §2.3 per-layer distribution. Accounting per
// layer: a removed or merged-away expert takes its share of the layer's expert params and its router
// row with it; top-k becomes min(top-k, experts kept).
import type { KnobSpec } from '../methods/method';
import { distributeGroups, distributeRemovals } from './distribute';
import { type LayerPlanState, liveMoeLayers, type ModelPlanState } from './plan-state';

function withCounts(s: ModelPlanState, layers: LayerPlanState[], kept: number[]): ModelPlanState {
  const at = new Map(layers.map((l, i) => [l.layer, kept[i]!]));
  return {
    ...s,
    layers: s.layers.map((l) => {
      const k = at.get(l.layer);
      if (k === undefined || k === l.experts) return l;
      const per = l.expertParams / l.experts;
      return { ...l, experts: k, expertParams: per * k, topK: Math.min(l.topK, k) };
    }),
  };
}

/** Removable experts over all live MoE layers (each keeps at least its minimum). */
export function removableExperts(s: ModelPlanState): number {
  return liveMoeLayers(s).reduce((a, l) => a + Math.max(0, l.experts - l.minExperts), 0);
}

/** Per-layer removals of a global count (strategy `fixed`, §2.3), in live-MoE-layer order. */
export function removalsPerLayer(s: ModelPlanState, total: number): { layers: LayerPlanState[]; removed: number[] } | null {
  const layers = liveMoeLayers(s);
  const removed = distributeRemovals(
    total,
    layers.map((l) => l.experts),
    layers.map((l) => l.minExperts),
  );
  return removed ? { layers, removed } : null;
}

export function removeExperts(s: ModelPlanState, total: number): ModelPlanState {
  const r = removalsPerLayer(s, total);
  if (!r) throw new RangeError(`cannot remove ${total} experts; at most ${removableExperts(s)}`);
  return withCounts(s, r.layers, r.layers.map((l, i) => l.experts - r.removed[i]!));
}

/** Per-layer group counts of a global group count (§2.3: the extra ones go to the last layers). */
export function groupsPerLayer(s: ModelPlanState, total: number): { layers: LayerPlanState[]; groups: number[] } | null {
  const layers = liveMoeLayers(s);
  const groups = distributeGroups(
    total,
    layers.map((l) => l.experts),
  );
  if (!groups) return null;
  if (groups.some((g, i) => g < Math.min(layers[i]!.experts, layers[i]!.minExperts))) return null;
  return { layers, groups };
}

export function mergeToGroups(s: ModelPlanState, total: number): ModelPlanState {
  const r = groupsPerLayer(s, total);
  if (!r) throw new RangeError(`cannot merge to ${total} groups`);
  return withCounts(s, r.layers, r.groups);
}

/** Knob `expertsRemoved` (global count, §2.2 P) with an optional fixed amount from the params. */
export function expertRemovalKnob<P>(fixed: (p: P, s: ModelPlanState) => number | null): KnobSpec<P> {
  return {
    name: 'expertsRemoved',
    fixed,
    range: (_p, s) => [0, removableExperts(s)],
    apply: (_p, s, k) => removeExperts(s, k),
  };
}

/** Knob `groups` (experts kept after merging, global, §2.2 M). */
export function groupKnob<P>(fixed: (p: P, s: ModelPlanState) => number | null): KnobSpec<P> {
  return {
    name: 'groups',
    fixed,
    range: (_p, s) => {
      const ls = liveMoeLayers(s);
      return [ls.reduce((a, l) => a + Math.min(l.experts, l.minExperts), 0), ls.reduce((a, l) => a + l.experts, 0)];
    },
    apply: (_p, s, k) => mergeToGroups(s, k),
  };
}
