// FLOPs per token (METHODS §8.3) from the executable shapes and the measured routing. Counted as
// torch's FlopCounterMode counts a forward pass: 2 × the multiply-accumulates of every matrix
// product (projections, router, experts, attention scores and values, lm_head); element-wise work
// (norms, activations, softmax, RoPE, biases) is not counted. Per token:
//   attention   2·(h·H·D + 2·h·KV·D + H·D·h) + 2·2·H·D·visible(p), visible(p) = min(p+1, window)
//   dense MLP   2·MACs(gate, up, down)
//   MoE         2·(h·N + shared-B products + Σ_e pairs_e/tokens · MACs(expert e) + shared expert)
//   lm_head     2·h·V
// with MACs(dense [in,out]) = in·out, MACs(factored, rank r) = r·(in+out), MACs(delta) = in·out +
// r·(in+out); a factor B shared by several experts is applied once per token (as the executor
// does) and counted once. A dropped block costs nothing, a dropped MoE sub-layer nothing past
// attention. pairs_e is the number of (token, expert e) routings measured on the run's tokens.
import type { ExecExpert } from '../model/blocks/gated-mlp';
import type { ExecLinear } from '../model/blocks/linear';
import type { ResidentLayer } from '../model/executor';
import type { ModelSpec, Tensor2D } from '../model/types';

/** One decoder layer's cost, from its shapes (MACs per token unless said otherwise). */
export interface LayerCost {
  layer: number;
  /** the whole block is dropped */
  skipped: boolean;
  /** q, k, v and o projections */
  attnProj: number;
  /** H·D: MACs per visible key, for scores and again for values */
  headWidth: number;
  window: number | null;
  ffn:
    | { kind: 'none' }
    | { kind: 'dense'; macs: number }
    | {
        kind: 'moe';
        router: number;
        /** shared factor products, once per token */
        sharedFactors: number;
        /** per routed expert, per routed token (shared factors excluded) */
        experts: number[];
        /** always-on shared expert, with its sigmoid gate's product */
        shared: number;
      };
}

/** Routed (token, expert) pairs per expert of one MoE layer over `tokens` tokens. */
export interface LayerRouting {
  tokens: number;
  pairs: number[];
}

export interface LayerFlops {
  layer: number;
  flopsPerToken: number;
  attention: number;
  ffn: number;
  /** measured routed experts per token (top-k unless the routing keeps fewer) */
  expertsPerToken: number | null;
}

export interface FlopsReport {
  flopsPerToken: number;
  /** the same total split by part */
  attention: number;
  ffn: number;
  lmHead: number;
  layers: LayerFlops[];
}

function linearMacs(L: ExecLinear, shared: ReadonlySet<Tensor2D>): number {
  if (L.kind === 'dense') return L.wT.shape[0] * L.wT.shape[1];
  const [inF, r] = L.bT.shape;
  const out = L.aT.shape[1];
  const lowRank = (shared.has(L.bT) ? 0 : inF * r) + r * out;
  return L.kind === 'delta' ? L.baseT.shape[0] * L.baseT.shape[1] + lowRank : lowRank;
}

function mlpMacs(e: ExecExpert, shared: ReadonlySet<Tensor2D> = new Set()): number {
  return linearMacs(e.gate, shared) + linearMacs(e.up, shared) + linearMacs(e.down, shared);
}

/** The cost shape of a resident layer (what the executor will actually multiply). */
export function layerCost(r: ResidentLayer, spec: ModelSpec): LayerCost {
  const { heads: H, kvHeads: KV, headDim: D } = spec.attention;
  const h = spec.hidden;
  const base = {
    layer: r.layer,
    attnProj: h * H * D + 2 * h * KV * D + H * D * h,
    headWidth: H * D,
    window: spec.slidingWindow[r.layer] ?? null,
  };
  const w = r.exec;
  if (w === null) return { ...base, skipped: true, attnProj: 0, headWidth: 0, ffn: { kind: 'none' } };
  if (w.ffn.kind === 'none') return { ...base, skipped: false, ffn: { kind: 'none' } };
  if (w.ffn.kind === 'dense')
    return { ...base, skipped: false, ffn: { kind: 'dense', macs: mlpMacs(w.ffn.mlp) } };
  const moe = w.ffn.moe;
  // the executor's rule: a gate/up factor B object used by more than one expert is applied once
  const uses = new Map<Tensor2D, number>();
  for (const e of moe.experts)
    for (const L of [e.gate, e.up]) if (L.kind !== 'dense') uses.set(L.bT, (uses.get(L.bT) ?? 0) + 1);
  const shared = new Set([...uses].filter(([, c]) => c > 1).map(([t]) => t));
  let sharedFactors = 0;
  for (const bT of shared) sharedFactors += bT.shape[0] * bT.shape[1];
  const sharedExpert = moe.shared
    ? mlpMacs(moe.shared) + (moe.shared.gateT ? h * moe.shared.gateT.shape[1] : 0)
    : 0;
  return {
    ...base,
    skipped: false,
    ffn: {
      kind: 'moe',
      router: moe.routerT.shape[0] * moe.routerT.shape[1],
      sharedFactors,
      experts: moe.experts.map((e) => mlpMacs(e, shared)),
      shared: sharedExpert,
    },
  };
}

/** Σ_p visible(p) over positions 0..positions-1. */
export function visibleKeys(positions: number, window: number | null): number {
  const w = window ?? Number.POSITIVE_INFINITY;
  let s = 0;
  for (let p = 0; p < positions; p++) s += Math.min(p + 1, w);
  return s;
}

/**
 * Mean FLOPs per token over tokens at positions 0..positions-1 (per sequence; every sequence of a
 * batch has the same positions), given each MoE layer's measured routing on those tokens.
 */
export function flopsPerToken(
  costs: readonly LayerCost[],
  routing: ReadonlyMap<number, LayerRouting>,
  head: { hidden: number; vocab: number },
  positions: number,
): FlopsReport {
  if (!Number.isInteger(positions) || positions < 1)
    throw new RangeError(`flopsPerToken: positions must be a positive integer, got ${positions}`);
  const layers: LayerFlops[] = costs.map((c) => {
    const attention = c.skipped
      ? 0
      : 2 * c.attnProj + (2 * 2 * c.headWidth * visibleKeys(positions, c.window)) / positions;
    let ffn = 0;
    let expertsPerToken: number | null = null;
    if (c.ffn.kind === 'dense') ffn = 2 * c.ffn.macs;
    else if (c.ffn.kind === 'moe') {
      const r = routing.get(c.layer);
      if (!r || r.tokens <= 0)
        throw new RangeError(`flopsPerToken: no routing was measured for MoE layer ${c.layer}`);
      if (r.pairs.length !== c.ffn.experts.length)
        throw new RangeError(
          `flopsPerToken: layer ${c.layer} routing counts ${r.pairs.length} experts, the layer has ${c.ffn.experts.length}`,
        );
      let routed = 0;
      let pairs = 0;
      c.ffn.experts.forEach((m, e) => {
        routed += r.pairs[e]! * m;
        pairs += r.pairs[e]!;
      });
      ffn = 2 * (c.ffn.router + c.ffn.sharedFactors + routed / r.tokens + c.ffn.shared);
      expertsPerToken = pairs / r.tokens;
    }
    return { layer: c.layer, flopsPerToken: attention + ffn, attention, ffn, expertsPerToken };
  });
  const lmHead = 2 * head.hidden * head.vocab;
  const attention = layers.reduce((s, l) => s + l.attention, 0);
  const ffn = layers.reduce((s, l) => s + l.ffn, 0);
  return { flopsPerToken: attention + ffn + lmHead, attention, ffn, lmHead, layers };
}
