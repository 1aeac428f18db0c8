// The global group-count knob of §2.2 M (experts kept after merging) with the §2.3 per-layer
// distribution (the extra groups go to the last layers). Accounting per layer: a merged-away expert
// takes its share of the layer's expert params and its router row with it (plan-state
// withExpertCount). The removal knob of P lives in methods/prune/knob.ts.

import { distributeGroups } from '../../pipeline/distribute';
import {
  type LayerPlanState,
  liveMoeLayers,
  type ModelPlanState,
  withExpertCount,
} from '../../pipeline/plan-state';
import type { KnobSpec } from '../method';

function withCounts(s: ModelPlanState, layers: LayerPlanState[], kept: number[]): ModelPlanState {
  const at = new Map(layers.map((l, i) => [l.layer, kept[i]!]));
  return { ...s, layers: s.layers.map((l) => (at.has(l.layer) ? withExpertCount(l, at.get(l.layer)!) : l)) };
}

/** Per-layer group counts of a global group count (§2.3: the extra ones go to the last layers). */
export function groupsPerLayer(
  s: ModelPlanState,
  total: number,
): { layers: LayerPlanState[]; groups: number[] } | null {
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

/** Knob `groups` (experts kept after merging, global, §2.2 M). */
export function groupKnob<P>(fixed: (p: P, s: ModelPlanState) => number | null): KnobSpec<P> {
  return {
    name: 'groups',
    fixed,
    range: (_p, s) => {
      const ls = liveMoeLayers(s);
      return [
        ls.reduce((a, l) => a + Math.min(l.experts, l.minExperts), 0),
        ls.reduce((a, l) => a + l.experts, 0),
      ];
    },
    apply: (_p, s, k) => mergeToGroups(s, k),
  };
}
