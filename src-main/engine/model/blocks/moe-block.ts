// Sparse MoE block on one token chunk: router on device, top-k on the host, each expert runs on
// just its routed tokens, weighted outputs are scatter-added on the host in expert order (the order
// HF's index_add_ uses), then the shared expert (optionally sigmoid-gated) is added. The chunk is
// read to the host once and each expert's rows are copied from there: tfjs-wasm's GatherV2 costs
// ~10 % of a forward at the bench shape, a host copy next to nothing (blocks/host-gather.ts). The
// combine stays on the host too: wasm has no segment-sum kernel, ScatterNd's order is unspecified,
// and reading an expert's [m, h] output back is a memcpy on this backend (its kernels are sync).
// A matrix several experts share — a factor B (MoE-SVD V-sharing, D²-MoE ShareV) or a gate/up base
// W_b (D²-MoE, §3.3 `shared_infer`) — is applied once to the whole chunk and each expert gathers its
// rows; the down base is applied per expert (its input differs). D²-MoE's dynamic base pruning
// (blocks/dynamic-prune.ts) runs between the experts' intermediates and their down projections.
// A streamed layer (ExecMoe.stream) reads each routed expert after routing and frees it after its
// down projection, so at most one expert's weights are live; unrouted experts are never read.
// Gate and up stay two products: one [h, 2I] product plus the column split measured no faster here
// (13.6 vs 13.6 ms at [130, 512] × [512, 2·1024], one thread; bit-identical results).
import { tf } from '../../tensor/backend';
import type { LayerObserver, RoutingSpec, Tensor1D, Tensor2D } from '../types';
import { type ExecDynamicPrune, probeKeep, prunedDown, wandaKeep } from './dynamic-prune';
import { type ExecExpert, type GatedPre, gatedIntermediate, gatedMlp } from './gated-mlp';
import { rowsOf } from './host-gather';
import { applyLinear, type ExecLinear } from './linear';
import { route } from './routing';

export interface ExecMoe {
  /** [h, N] pre-transposed router. */
  routerT: Tensor2D;
  routerBias?: Tensor1D;
  experts: ExecExpert[];
  shared?: ExecExpert & { gateT?: Tensor2D };
  routing: RoutingSpec;
  /** D²-MoE semi-dynamic base pruning: the per-chunk half */
  dynamic?: ExecDynamicPrune;
  /** apply a shared gate/up base per expert, as a plain expert would (reference path for tests and bench) */
  naiveBase?: boolean;
  /**
   * Routed experts read just before use and freed after (a layer whose experts exceed the
   * executor's budget, e.g. Mixtral-8x7B's 5.6 GiB per layer in f32): `experts` is then empty.
   */
  stream?: ExpertStream;
}

/** One expert's weights, read on demand; the caller frees `owned` when the expert is done. */
export interface ExpertLease {
  expert: ExecExpert;
  owned: tf.Tensor[];
}

export interface ExpertStream {
  count: number;
  load(e: number): ExpertLease;
}

/** Routed expert e, from memory or read from the stream (free with releaseExpert). */
function acquireExpert(w: ExecMoe, e: number): ExpertLease {
  return w.stream ? w.stream.load(e) : { expert: w.experts[e]!, owned: [] };
}

function releaseExpert(l: ExpertLease): void {
  tf.dispose(l.owned);
}

/** The [in, out] matrix a dense linear applies, or a delta linear's base. */
function baseOf(L: ExecLinear): Tensor2D | null {
  return L.kind === 'dense' ? L.wT : L.kind === 'delta' ? L.baseT : null;
}

/** Gate/up bases (or dense matrices) held by more than one expert as the same object. */
export function sharedBases(experts: ExecExpert[]): Set<Tensor2D> {
  const count = new Map<Tensor2D, number>();
  for (const e of experts)
    for (const L of [e.gate, e.up]) {
      const b = baseOf(L);
      if (b) count.set(b, (count.get(b) ?? 0) + 1);
    }
  return new Set([...count].filter(([, c]) => c > 1).map(([t]) => t));
}

/** Factor matrices B (as bT) used by more than one expert for gate or up: applied once per chunk. */
function sharedFactors(experts: ExecExpert[]): Set<Tensor2D> {
  const count = new Map<Tensor2D, number>();
  for (const e of experts) {
    for (const L of [e.gate, e.up]) if (L.kind !== 'dense') count.set(L.bT, (count.get(L.bT) ?? 0) + 1);
  }
  return new Set([...count].filter(([, c]) => c > 1).map(([t]) => t));
}

export async function moeBlock(
  x: Tensor2D,
  w: ExecMoe,
  layer: number,
  rowStart: number,
  obs?: LayerObserver,
  allExperts = false,
  routerOnly = false,
): Promise<Tensor2D> {
  const [n, h] = x.shape;
  const N = w.stream?.count ?? w.experts.length;
  if (w.stream && w.dynamic)
    throw new RangeError('a streamed expert layer cannot carry dynamic base pruning');
  const logitsT = tf.tidy(() => {
    const l = tf.matMul(x, w.routerT);
    return w.routerBias ? tf.add(l, w.routerBias) : l;
  }) as Tensor2D;
  const logits = logitsT.dataSync() as Float32Array;
  const r = route(logits, n, N, w.routing);
  const k = w.routing.topK;
  if (obs?.onRouter) {
    const probs = tf.tensor2d(r.probs, [n, N]);
    try {
      await obs.onRouter({
        layer,
        input: x,
        rowStart,
        logits: logitsT,
        probs,
        topK: k,
        experts: r.experts,
        weights: r.weights,
      });
    } finally {
      tf.dispose([probs, logitsT]);
    }
  } else {
    logitsT.dispose();
  }

  // a sweep that only records routing and MoE inputs: no expert runs, the block's output is zero
  if (routerOnly) return tf.zeros([n, h]) as Tensor2D;
  if (allExperts && obs?.onExpert) await observeAllExperts(x, w, layer, rowStart, r.probs, obs);

  // Group token rows by expert, in token order (HF: torch.where over the expert mask).
  const counts = new Int32Array(N);
  for (let i = 0; i < n * k; i++) counts[r.experts[i]!]++;
  const rows = Array.from({ length: N }, (_, e) => new Int32Array(counts[e]!));
  const wts = Array.from({ length: N }, (_, e) => new Float32Array(counts[e]!));
  const fill = new Int32Array(N);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      const e = r.experts[t * k + j]!;
      rows[e]![fill[e]!] = t;
      wts[e]![fill[e]++] = r.weights[t * k + j]!;
    }
  }

  // x·M of a matrix M several experts share, read to the host once; each expert copies its rows
  const pre = new Map<Tensor2D, { data: Float32Array; cols: number }>();
  const acc = new Float32Array(n * h);
  const dyn = w.dynamic && w.dynamic.remove > 0 ? w.dynamic : null;
  interface Part {
    xe: Tensor2D;
    act: Tensor2D;
  }
  const parts = new Map<number, Part>();
  const downMemo = new Map<Tensor2D, Tensor2D>();
  let keep: Int32Array | null = null;
  const freePart = (p: Part) => tf.dispose([p.xe, p.act]);
  const xHost = x.dataSync() as Float32Array;
  try {
    const once = (m: Tensor2D) => {
      const y = tf.matMul(x, m);
      try {
        pre.set(m, { data: y.dataSync() as Float32Array, cols: m.shape[1] });
      } finally {
        y.dispose();
      }
    };
    for (const bT of sharedFactors(w.experts)) once(bT);
    if (!w.naiveBase) for (const b of sharedBases(w.experts)) once(b);
    const intermediateOf = (e: number, ex: ExecExpert): Part => {
      const preE: GatedPre = {};
      const pick = (t: Tensor2D | null) => {
        const p = t ? pre.get(t) : undefined;
        return p ? rowsOf(p.data, p.cols, rows[e]!) : undefined;
      };
      const xe = rowsOf(xHost, h, rows[e]!);
      try {
        const g = pick(ex.gate.kind === 'dense' ? null : ex.gate.bT);
        const u = pick(ex.up.kind === 'dense' ? null : ex.up.bT);
        const gb = pick(baseOf(ex.gate));
        const ub = pick(baseOf(ex.up));
        if (g) preE.gate = g;
        if (u) preE.up = u;
        if (gb) preE.gateBase = gb;
        if (ub) preE.upBase = ub;
        return { xe, act: gatedIntermediate(xe, ex, preE) };
      } catch (err) {
        xe.dispose();
        throw err;
      } finally {
        tf.dispose(Object.values(preE));
      }
    };
    const live = Array.from({ length: N }, (_, e) => e).filter((e) => counts[e]! > 0);
    if (dyn?.score === 'wanda') {
      // the paper's score needs every routed intermediate of the chunk before any down projection
      for (const e of live) parts.set(e, intermediateOf(e, w.experts[e]!));
      keep = wandaKeep(
        dyn,
        live.map((e) => parts.get(e)!.act),
      );
    }
    for (const e of live) {
      const m = counts[e]!;
      // a streamed expert is read here, after routing, so only the routed ones are ever decoded
      const lease = acquireExpert(w, e);
      const ex = lease.expert;
      let p: Part;
      let out: Tensor2D;
      try {
        p = parts.get(e) ?? intermediateOf(e, ex);
        parts.set(e, p);
        if (!dyn) out = applyLinear(p.act, ex.down);
        else if (keep) out = prunedDown(dyn, p.act, ex.down, keep, downMemo);
        else {
          const memo = new Map<Tensor2D, Tensor2D>();
          try {
            out = prunedDown(dyn, p.act, ex.down, probeKeep(dyn, e, p.xe, p.act), memo);
          } finally {
            tf.dispose([...memo.values()]);
          }
        }
      } finally {
        releaseExpert(lease);
      }
      try {
        const y = out.dataSync() as Float32Array;
        if (obs?.onExpert && !allExperts) {
          const abs = Int32Array.from(rows[e]!, (t) => t + rowStart);
          await obs.onExpert({
            layer,
            expert: e,
            rows: abs,
            weights: wts[e]!,
            input: p.xe,
            intermediate: p.act,
            output: out,
          });
        }
        const re = rows[e]!;
        const we = wts[e]!;
        for (let i = 0; i < m; i++) {
          const o = re[i]! * h;
          const wi = we[i]!;
          for (let j = 0; j < h; j++) acc[o + j] += Math.fround(y[i * h + j]! * wi);
        }
      } finally {
        out.dispose();
        freePart(p);
        parts.delete(e);
      }
    }
  } finally {
    for (const p of parts.values()) freePart(p);
    tf.dispose([...downMemo.values()]);
  }

  const routed = tf.tensor2d(acc, [n, h]);
  if (!w.shared) return routed;
  const { out: so } = gatedMlp(x, w.shared, false);
  if (obs?.onSharedExpert) {
    try {
      await obs.onSharedExpert({ layer, rowStart, input: x, output: so });
    } catch (err) {
      tf.dispose([routed, so]);
      throw err;
    }
  }
  const res = tf.tidy(() => {
    const s = w.shared!.gateT ? tf.mul(tf.sigmoid(tf.matMul(x, w.shared!.gateT)), so) : so;
    return tf.add(routed, s) as Tensor2D;
  });
  tf.dispose([routed, so]);
  return res;
}

/** Every expert on every token of the chunk, for statistics only (weights = router probabilities). */
async function observeAllExperts(
  x: Tensor2D,
  w: ExecMoe,
  layer: number,
  rowStart: number,
  probs: Float32Array,
  obs: LayerObserver,
): Promise<void> {
  const n = x.shape[0];
  const N = w.stream?.count ?? w.experts.length;
  const rows = Int32Array.from({ length: n }, (_, t) => t + rowStart);
  for (let e = 0; e < N; e++) {
    const weights = Float32Array.from({ length: n }, (_, t) => probs[t * N + e]!);
    const lease = acquireExpert(w, e);
    let res: ReturnType<typeof gatedMlp>;
    try {
      res = gatedMlp(x, lease.expert, true);
    } finally {
      releaseExpert(lease);
    }
    const { out, intermediate } = res;
    try {
      await obs.onExpert!({
        layer,
        expert: e,
        rows,
        weights,
        input: x,
        intermediate: intermediate!,
        output: out,
        allTokens: true,
      });
    } finally {
      tf.dispose([out, intermediate!]);
    }
  }
}
