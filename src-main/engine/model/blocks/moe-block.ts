// Sparse MoE block on one token chunk: router on device, top-k on the host, each expert runs on
// just its routed tokens (gather), weighted outputs are scatter-added on the host in expert order
// (the order HF's index_add_ uses), then the shared expert (optionally sigmoid-gated) is added.
import { tf } from '../../tensor/backend';
import type { LayerObserver, RoutingSpec, Tensor1D, Tensor2D } from '../types';
import { type ExecExpert, gatedMlp } from './gated-mlp';
import { route } from './routing';

export interface ExecMoe {
  /** [h, N] pre-transposed router. */
  routerT: Tensor2D;
  routerBias?: Tensor1D;
  experts: ExecExpert[];
  shared?: ExecExpert & { gateT?: Tensor2D };
  routing: RoutingSpec;
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
): Promise<Tensor2D> {
  const [n, h] = x.shape;
  const N = w.experts.length;
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

  const shared = sharedFactors(w.experts);
  const pre = new Map<Tensor2D, Tensor2D>();
  for (const bT of shared) pre.set(bT, tf.matMul(x, bT));

  const acc = new Float32Array(n * h);
  for (let e = 0; e < N; e++) {
    const m = counts[e]!;
    if (m === 0) continue;
    const ex = w.experts[e]!;
    const idx = tf.tensor1d(rows[e]!, 'int32');
    const xe = tf.gather(x, idx) as Tensor2D;
    const preE: { gate?: Tensor2D; up?: Tensor2D } = {};
    if (ex.gate.kind !== 'dense' && pre.has(ex.gate.bT))
      preE.gate = tf.gather(pre.get(ex.gate.bT)!, idx) as Tensor2D;
    if (ex.up.kind !== 'dense' && pre.has(ex.up.bT)) preE.up = tf.gather(pre.get(ex.up.bT)!, idx) as Tensor2D;
    const { out, intermediate } = gatedMlp(xe, ex, obs?.onExpert !== undefined, preE);
    try {
      const y = out.dataSync() as Float32Array;
      if (obs?.onExpert) {
        const abs = Int32Array.from(rows[e]!, (t) => t + rowStart);
        if (!allExperts) await obs.onExpert({
          layer,
          expert: e,
          rows: abs,
          weights: wts[e]!,
          input: xe,
          intermediate: intermediate!,
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
    } catch (err) {
      tf.dispose([...pre.values()]);
      throw err;
    } finally {
      tf.dispose([idx, xe, out, ...(intermediate ? [intermediate] : []), ...Object.values(preE)]);
    }
  }
  tf.dispose([...pre.values()]);

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
  const N = w.experts.length;
  const rows = Int32Array.from({ length: n }, (_, t) => t + rowStart);
  for (let e = 0; e < N; e++) {
    const weights = Float32Array.from({ length: n }, (_, t) => probs[t * N + e]!);
    const { out, intermediate } = gatedMlp(x, w.experts[e]!, true);
    try {
      await obs.onExpert!({ layer, expert: e, rows, weights, input: x, intermediate: intermediate!, output: out, allTokens: true });
    } finally {
      tf.dispose([out, intermediate!]);
    }
  }
}
