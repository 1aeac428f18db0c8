// D²-MoE parameter accounting and ratio → knobs (METHODS §3.7, §6), shapes only (no tfjs).
//
// Per compressed MoE layer with N experts, hidden h, expert intermediate I and delta rank r:
//   base   round(3·h·I·(1 − pp))       counted once per layer (one W_b per projection type); like
//                                      cal_params.py the whole pp_ratio counts as removed, although
//                                      half of it is pruned dynamically at inference (§3.5)
//   deltas N'·3·r·(h + I)              N' = N − trimmed experts (§3.6); each of the three deltas
//                                      costs r·(m + n)
//   ShareV r·(2h + I) + N'·r·(2I + h)  V (the B factors) once per layer, U (the A factors) per expert
//   MergeU r·(2h + I) + r·(2I + h)     also one U per projection type
// Router, attention, norms, shared experts, dense layers and embeddings are whatever the state says
// (they are not touched), so the whole-model total is exact for every architecture; with a
// hand-built Mixtral-8x7B state it is cal_params.py's formula term for term.
// Bisection (cal_params.find_delta_ratio): delta_ratio ∈ [0, 1], tolerance 1e-4; a midpoint whose
// model is above the target moves the upper end, otherwise the lower; the answer is the final
// midpoint and r = floor(h·I·delta_ratio / (h + I)) (the reference's int(), same operation order).
import {
  type LayerPlanState,
  liveMoeLayers,
  type ModelPlanState,
  stateParams,
} from '../../pipeline/plan-state';

export interface D2Accounting {
  ppRatio: number;
  shareV: boolean;
  mergeU: boolean;
  trimDeltas: number;
  ignoreLayers: readonly number[];
  /** semi-dynamic split of pp (default true) and the kept-channel multiple (default 1): stored count only */
  dynamic?: boolean;
  channelMultiple?: number;
}

export const BISECTION_TOLERANCE = 1e-4;

/** r = floor(h·I·delta_ratio / (h + I)) — cal_params' int(hidden·inter·ratio/(hidden+inter)). */
export function deltaRank(deltaRatio: number, h: number, I: number): number {
  return Math.floor((h * I * deltaRatio) / (h + I));
}

/** Largest rank a delta can have (full rank: the base + delta reproduce every expert exactly). */
export function maxDeltaRank(h: number, I: number): number {
  return Math.min(h, I);
}

/** Experts whose delta is kept in a layer of N experts. */
export function keptDeltas(N: number, trim: number): number {
  return Math.max(0, N - trim);
}

/** Routed-expert params of one compressed layer (base + deltas). */
export function d2LayerExpertParams(h: number, I: number, N: number, p: D2Accounting, r: number): number {
  // cal_params counts 3hI·(1 − pp); rounded to whole parameters (no Table 12 value moves)
  const base = Math.round(3 * h * I * (1 - p.ppRatio));
  const n = keptDeltas(N, p.trimDeltas);
  if (r === 0 || n === 0) return base;
  if (!p.shareV) return base + n * 3 * r * (h + I);
  return base + r * (2 * h + I) + (p.mergeU ? 1 : n) * r * (2 * I + h);
}

/** Of those, the params several experts hold as one tensor: the base, and V (ShareV) / U (MergeU) of the kept deltas. */
export function d2LayerSharedParams(h: number, I: number, N: number, p: D2Accounting, r: number): number {
  if (N < 2) return 0;
  const base = Math.round(3 * h * I * (1 - p.ppRatio));
  if (r === 0 || keptDeltas(N, p.trimDeltas) < 2 || !p.shareV) return base;
  return base + r * (2 * h + I) + (p.mergeU ? r * (2 * I + h) : 0);
}

/** Layers the step compresses: live MoE layers with dense experts, minus `ignoreLayers`. */
export function d2Layers(s: ModelPlanState, p: Pick<D2Accounting, 'ignoreLayers'>): LayerPlanState[] {
  const ignored = new Set(p.ignoreLayers);
  return liveMoeLayers(s).filter((l) => l.form === 'dense' && !ignored.has(l.layer));
}

/** The planned state after compressing every eligible layer at delta rank r. */
export function d2Apply(p: D2Accounting, s: ModelPlanState, r: number): ModelPlanState {
  const set = new Set(d2Layers(s, p).map((l) => l.layer));
  return {
    ...s,
    layers: s.layers.map((l) =>
      set.has(l.layer)
        ? {
            ...l,
            expertParams: d2LayerExpertParams(s.hidden, s.intermediate, l.experts, p, r),
            sharedExpertParams: d2LayerSharedParams(s.hidden, s.intermediate, l.experts, p, r),
            form: 'delta' as const,
            rank: r,
          }
        : l,
    ),
  };
}

/** cal_params.find_delta_ratio on the exact state: delta_ratio meeting `targetParams`, and its rank. */
export function solveDeltaRatio(
  p: D2Accounting,
  s: ModelPlanState,
  targetParams: number,
  tolerance = BISECTION_TOLERANCE,
): { deltaRatio: number; rank: number; state: ModelPlanState } {
  const at = (dr: number) => stateParams(d2Apply(p, s, deltaRank(dr, s.hidden, s.intermediate)));
  let left = 0;
  let right = 1;
  while (right - left > tolerance) {
    const mid = (left + right) / 2;
    if (at(mid) > targetParams) right = mid;
    else left = mid;
  }
  const deltaRatio = (left + right) / 2;
  const rank = deltaRank(deltaRatio, s.hidden, s.intermediate);
  return { deltaRatio, rank, state: d2Apply(p, s, rank) };
}

/**
 * Base channels removed per layer for a target sparsity pp of I channels: floor(pp·I), then — with a
 * channel multiple m > 1, the reference's tensor-core rounding (§3.5 code step 5) — *fewer* removed so
 * that the kept count is a multiple of m. The removal splits into the static half (calibration, once)
 * and the dynamic half (per inference batch) when `dynamic`; otherwise all of it is static.
 */
export function prunePlan(
  I: number,
  pp: number,
  dynamic: boolean,
  multiple: number,
): { removed: number; staticRemoved: number; dynamicRemoved: number; kept: number } {
  let removed = Math.min(I - 1, Math.max(0, Math.floor(pp * I + 1e-9)));
  if (multiple > 1) {
    const kept = Math.min(I, Math.ceil((I - removed) / multiple) * multiple);
    removed = I - kept;
  }
  const staticRemoved = dynamic ? Math.floor(removed / 2) : removed;
  return { removed, staticRemoved, dynamicRemoved: removed - staticRemoved, kept: I - removed };
}

/**
 * Routed-expert params of one compressed layer *as stored* (what layerStateOf counts on the view and
 * `moe-bench inspect` on the export), which differs from the budget's cal_params count when pp > 0:
 * the base keeps I_k = I − staticRemoved channels (the dynamic half is chosen per batch, so those
 * channels stay stored), and each delta is sliced to the same I_k channels
 * (gate/up ΔU [I_k, r], down ΔV [r, I_k]). The probe statistic g_j is not a tensor.
 */
export function d2StoredLayerExpertParams(
  h: number,
  I: number,
  N: number,
  p: D2Accounting,
  r: number,
): number {
  const Ik = I - prunePlan(I, p.ppRatio, p.dynamic ?? true, p.channelMultiple ?? 1).staticRemoved;
  const base = 3 * h * Ik;
  const n = keptDeltas(N, p.trimDeltas);
  if (r === 0 || n === 0) return base;
  if (!p.shareV) return base + n * 3 * r * (h + Ik);
  return base + r * (2 * h + Ik) + (p.mergeU ? 1 : n) * r * (2 * Ik + h);
}
