// A decoder layer's forward written so tfjs autograd can differentiate it: the same block functions
// as the executor (norms, attention, RoPE, gated MLP, host routing) in the same order and chunking,
// with the one non-differentiable piece of model/blocks/moe-block.ts — the host-side scatter-add of
// the weighted expert outputs — re-expressed on the device: expert e's weighted output is scattered
// into the layer shape (scatterND over its routed rows) and added in expert order. Every token
// reaches an expert at most once, so each scatter is a plain copy and the running sum adds the
// same f32 values in the same order as the executor's host loop: the output equals runLayer's.
// Routing decisions (top-k indices, sparsemixer masks) are piecewise constant and taken from the host
// `route`; the routing *weights* carry an analytic gradient w.r.t. the router logits (customGrad),
// so gradients flow into the router and through it into the layer input, as in PyTorch.

import { EngineError } from '../errors';
import { attention } from '../model/blocks/attention';
import { type ExecExpert, gatedMlp } from '../model/blocks/gated-mlp';
import { layerNorm } from '../model/blocks/layer-norm';
import type { ExecMoe } from '../model/blocks/moe-block';
import { rmsNorm } from '../model/blocks/rms-norm';
import type { RopeTables } from '../model/blocks/rope';
import { type Routed, route } from '../model/blocks/routing';
import type { ExecLayer, NormWeights } from '../model/layer-weights';
import type { ModelSpec, RoutingSpec, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';

export interface LayerForwardShape {
  batch: number;
  seqLen: number;
  window: number | null;
  rope: RopeTables;
  /** rows per MoE chunk (the executor's tokenChunk, default 1024) */
  tokenChunk: number;
  /** the executor's scoreBudgetBytes (default 64 MiB) */
  scoreBudgetBytes: number;
}

export function normOf(spec: ModelSpec, x: Tensor2D, w: NormWeights): Tensor2D {
  return spec.norm.kind === 'rms'
    ? rmsNorm(x, w.weight, spec.norm.eps)
    : layerNorm(x, w.weight, w.bias, spec.norm.eps);
}

/**
 * d(routing weight)/d(logits)ᵀ·dy on the host (f64): dy [n, N] is the gradient w.r.t. the dense
 * routing-weight matrix (non-zero only at the selected experts).
 */
export function routingWeightsVjp(
  logits: Float32Array,
  n: number,
  N: number,
  spec: RoutingSpec,
  r: Routed,
  dy: Float32Array | Float64Array,
): Float32Array {
  const out = new Float32Array(n * N);
  const k = spec.topK;
  if (spec.kind === 'softmax-topk') {
    const p = new Float64Array(N);
    const q = new Float64Array(N);
    for (let t = 0; t < n; t++) {
      const o = t * N;
      let m = Number.NEGATIVE_INFINITY;
      for (let e = 0; e < N; e++) m = Math.max(m, logits[o + e]!);
      let s = 0;
      for (let e = 0; e < N; e++) s += p[e] = Math.exp(logits[o + e]! - m);
      for (let e = 0; e < N; e++) p[e]! /= s;
      q.fill(0);
      let S = 0;
      for (let j = 0; j < k; j++) S += p[r.experts[t * k + j]!]!;
      if (spec.normTopK) {
        // w_e = p_e / (S + eps), S = Σ_selected p
        const d = S + spec.normEps;
        let c = 0;
        for (let j = 0; j < k; j++) {
          const e = r.experts[t * k + j]!;
          c += dy[o + e]! * p[e]!;
        }
        for (let j = 0; j < k; j++) {
          const e = r.experts[t * k + j]!;
          q[e] = dy[o + e]! / d - c / (d * d);
        }
      } else {
        for (let j = 0; j < k; j++) {
          const e = r.experts[t * k + j]!;
          q[e] = dy[o + e]!;
        }
      }
      // softmax Jacobian: dl_i = p_i (q_i − Σ_m q_m p_m)
      let qp = 0;
      for (let e = 0; e < N; e++) qp += q[e]! * p[e]!;
      for (let e = 0; e < N; e++) out[o + e] = p[e]! * (q[e]! - qp);
    }
    return out;
  }
  // sparsemixer (inference): w_j = softmax over the mask set M_j, evaluated at the winner b_j
  const g = new Float64Array(N);
  for (let t = 0; t < n; t++) {
    const o = t * N;
    g.fill(0);
    let masked = -1;
    for (let j = 0; j < 2; j++) {
      const b = r.experts[t * 2 + j]!;
      const mx = logits[o + b]!;
      let z = 0;
      const inM = (e: number) => {
        if (e === masked) return false;
        const factor = Math.max(Math.abs(logits[o + e]!), mx);
        return !((mx - logits[o + e]!) / factor > 2 * spec.jitterEps);
      };
      for (let e = 0; e < N; e++) if (inM(e)) z += Math.exp(logits[o + e]! - mx);
      const w = 1 / z;
      const d = dy[o + b]!;
      for (let e = 0; e < N; e++) {
        if (!inM(e)) continue;
        const s = Math.exp(logits[o + e]! - mx) / z;
        g[e] += d * w * ((e === b ? 1 : 0) - s);
      }
      masked = b;
    }
    for (let e = 0; e < N; e++) out[o + e] = g[e]!;
  }
  return out;
}

/** Dense [n, N] routing weights (0 where not selected), differentiable w.r.t. the logits. */
function routingWeights(logitsT: Tensor2D, logits: Float32Array, r: Routed, spec: RoutingSpec): Tensor2D {
  const [n, N] = logitsT.shape;
  const k = spec.topK;
  const dense = new Float32Array(n * N);
  for (let t = 0; t < n; t++)
    for (let j = 0; j < k; j++) dense[t * N + r.experts[t * k + j]!] = r.weights[t * k + j]!;
  const forward = () => ({
    value: tf.tensor2d(dense, [n, N]),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const d = (Array.isArray(dy) ? dy[0]! : dy).dataSync() as Float32Array;
      return tf.tensor2d(routingWeightsVjp(logits, n, N, spec, r, d), [n, N]);
    },
  });
  // biome-ignore lint/suspicious/noExplicitAny: tfjs-core does not export its CustomGradientFunc type
  const f = tf.customGrad(forward as any);
  return f(logitsT) as Tensor2D;
}

/** Factor matrices B (as bT) shared by several experts' gate/up: applied once per chunk (as moe-block). */
function sharedFactors(experts: ExecExpert[]): Set<Tensor2D> {
  const count = new Map<Tensor2D, number>();
  for (const e of experts) {
    for (const L of [e.gate, e.up]) if (L.kind !== 'dense') count.set(L.bT, (count.get(L.bT) ?? 0) + 1);
  }
  return new Set([...count].filter(([, c]) => c > 1).map(([t]) => t));
}

/** The MoE block on one chunk of normed hidden states, differentiable (see the file comment). */
export function moeForward(x: Tensor2D, w: ExecMoe): Tensor2D {
  // its channel choice is a per-chunk argmin, not differentiable: refuse rather than run unpruned
  if (w.dynamic && w.dynamic.remove > 0)
    throw new EngineError(
      'the differentiable forward does not run D²-MoE dynamic base pruning; backpropagate through the model before d2-moe',
    );
  const [n, h] = x.shape;
  const N = w.experts.length;
  const logitsT = (
    w.routerBias ? tf.add(tf.matMul(x, w.routerT), w.routerBias) : tf.matMul(x, w.routerT)
  ) as Tensor2D;
  const logits = logitsT.dataSync() as Float32Array;
  const r = route(logits, n, N, w.routing);
  const k = w.routing.topK;
  const wd = routingWeights(logitsT, logits, r, w.routing);
  const counts = new Int32Array(N);
  for (let i = 0; i < n * k; i++) counts[r.experts[i]!]++;
  const rows = Array.from({ length: N }, (_, e) => new Int32Array(counts[e]!));
  const fill = new Int32Array(N);
  for (let t = 0; t < n; t++)
    for (let j = 0; j < k; j++) {
      const e = r.experts[t * k + j]!;
      rows[e]![fill[e]++] = t;
    }
  const shared = sharedFactors(w.experts);
  const pre = new Map<Tensor2D, Tensor2D>();
  for (const bT of shared) pre.set(bT, tf.matMul(x, bT));
  let acc: Tensor2D = tf.zeros([n, h]);
  for (let e = 0; e < N; e++) {
    if (counts[e] === 0) continue;
    const ex = w.experts[e]!;
    const idx = tf.tensor1d(rows[e]!, 'int32');
    const xe = tf.gather(x, idx) as Tensor2D;
    const preE: { gate?: Tensor2D; up?: Tensor2D } = {};
    if (ex.gate.kind !== 'dense' && pre.has(ex.gate.bT))
      preE.gate = tf.gather(pre.get(ex.gate.bT)!, idx) as Tensor2D;
    if (ex.up.kind !== 'dense' && pre.has(ex.up.bT)) preE.up = tf.gather(pre.get(ex.up.bT)!, idx) as Tensor2D;
    const { out } = gatedMlp(xe, ex, false, preE);
    const we = tf.reshape(tf.gather(tf.reshape(tf.slice(wd, [0, e], [n, 1]), [n]), idx), [counts[e]!, 1]);
    const at = tf.reshape(idx, [counts[e]!, 1]);
    acc = tf.add(acc, tf.scatterND(at, tf.mul(out, we), [n, h])) as Tensor2D;
  }
  if (!w.shared) return acc;
  const { out: so } = gatedMlp(x, w.shared, false);
  const s = w.shared.gateT ? tf.mul(tf.sigmoid(tf.matMul(x, w.shared.gateT)), so) : so;
  return tf.add(acc, s) as Tensor2D;
}

/**
 * Decoder layer l on x [B·T, h] (the executor's runLoadedLayer without observers). Intermediate
 * tensors are left to the caller's tidy / gradient scope.
 */
export function layerForward(spec: ModelSpec, w: ExecLayer, x: Tensor2D, s: LayerForwardShape): Tensor2D {
  const xn = normOf(spec, x, w.inputNorm);
  const a = attention(xn, w.attn, spec.attention, s.rope, {
    batch: s.batch,
    seqLen: s.seqLen,
    window: s.window,
    normEps: spec.norm.eps,
    scoreBudgetBytes: s.scoreBudgetBytes,
  });
  const h1 = tf.add(x, a) as Tensor2D;
  if (w.ffn.kind === 'none') return h1;
  const rows = h1.shape[0];
  const chunk = s.tokenChunk;
  const parts: Tensor2D[] = [];
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const hc = rows <= chunk ? h1 : (tf.slice(h1, [r0, 0], [n, spec.hidden]) as Tensor2D);
    const hn = normOf(spec, hc, w.postNorm!);
    const y = w.ffn.kind === 'dense' ? gatedMlp(hn, w.ffn.mlp, false).out : moeForward(hn, w.ffn.moe);
    parts.push(tf.add(hc, y) as Tensor2D);
  }
  return parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as Tensor2D);
}
