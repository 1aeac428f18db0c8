// A MoE view restricted to a subset of its routed experts (expert pruning / dropping, METHODS §2.5,
// §4.3): the kept experts in their ORIGINAL order (the compression-MoE reference re-orders them by
// ascending importance; order is irrelevant because router rows move with the experts), the router's
// kept rows (and bias entries), top-k ← min(top-k, kept), the shared expert untouched, `sources`
// carried so every expert still names the original experts it came from. The result owns all its
// tensors (tf.clone shares the data; a factor shared by several experts stays one tensor object).
import { EngineError } from '../../errors';
import type { ExpertWeights, Linear, MoeLayerView, RoutingSpec, SharedExpertView } from '../../model/types';
import { tf } from '../../tensor/backend';

function cloner() {
  const memo = new Map<tf.Tensor, tf.Tensor>();
  const t = <T extends tf.Tensor>(x: T): T => {
    let c = memo.get(x);
    if (!c) {
      c = tf.clone(x);
      memo.set(x, c);
    }
    return c as T;
  };
  const lin = (L: Linear): Linear => {
    switch (L.kind) {
      // same weights: a slimming tag or a quantized form still describes them
      case 'dense':
      case 'quantized':
        return L.bias ? { ...L, w: t(L.w), bias: t(L.bias) } : { ...L, w: t(L.w) };
      case 'factored':
        return L.bias
          ? { kind: 'factored', A: t(L.A), B: t(L.B), bias: t(L.bias) }
          : { kind: 'factored', A: t(L.A), B: t(L.B) };
      case 'delta':
        return { kind: 'delta', base: t(L.base), A: t(L.A), B: t(L.B) };
    }
  };
  const expert = (e: ExpertWeights): ExpertWeights => ({
    gate: lin(e.gate),
    up: lin(e.up),
    down: lin(e.down),
  });
  return { t, expert };
}

function routingFor(r: RoutingSpec, kept: number, layer: number): RoutingSpec {
  if (r.kind === 'sparsemixer') {
    if (kept < 2)
      throw new EngineError(
        `layer ${layer}: sparsemixer routing needs at least 2 experts, ${kept} would be kept`,
        {
          field: 'steps',
        },
      );
    return r;
  }
  return { ...r, topK: Math.min(r.topK, kept) };
}

/** The view with only experts `kept` (indices into view.experts, ascending, distinct). */
export function keepExperts(view: MoeLayerView, kept: readonly number[]): MoeLayerView {
  const N = view.experts.length;
  kept.forEach((e, i) => {
    if (!Number.isInteger(e) || e < 0 || e >= N || (i > 0 && e <= kept[i - 1]!))
      throw new RangeError(
        `kept experts must be ascending distinct indices in 0..${N - 1}, got [${kept.join(', ')}]`,
      );
  });
  if (kept.length === 0)
    throw new EngineError(`layer ${view.layer}: a MoE layer must keep at least one routed expert`, {
      field: 'steps',
    });
  const routing = routingFor(view.routing, kept.length, view.layer);
  const c = cloner();
  const idx = tf.tensor1d(Int32Array.from(kept), 'int32');
  try {
    const out: MoeLayerView = {
      layer: view.layer,
      router: tf.gather(view.router, idx) as tf.Tensor2D,
      experts: kept.map((e) => c.expert(view.experts[e]!)),
      routing,
      sources: kept.map((e) => (view.sources ? [...view.sources[e]!] : [e])),
    };
    if (view.routerBias) out.routerBias = tf.gather(view.routerBias, idx) as tf.Tensor1D;
    if (view.shared) {
      const s: SharedExpertView = c.expert(view.shared);
      if (view.shared.gateWeight) s.gateWeight = c.t(view.shared.gateWeight);
      out.shared = s;
    }
    return out;
  } finally {
    idx.dispose();
  }
}

/** Original expert ids of current experts `idx` (via `sources`; a merged expert names all its members). */
export function originalIds(view: MoeLayerView, idx: readonly number[]): number[] {
  return idx.flatMap((e) => (view.sources ? view.sources[e]! : [e]));
}
