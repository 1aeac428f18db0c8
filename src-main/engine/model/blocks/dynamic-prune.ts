// The dynamic half of D²-MoE's semi-dynamic base pruning (METHODS §3.5; the view's `dynamicPrune`,
// model/types.ts): per token chunk, score the intermediate channels, keep all but the `remove`
// lowest, and run every expert's down projection on the kept channels only (base columns and the
// matching columns of the down delta's B — a pruned channel leaves the whole expert, §3.5 code
// step 6). Gate/up are computed in full: the paper's score needs the chunk's real intermediates, and
// a channel's intermediate depends only on its own gate/up rows, so computing the kept rows alone
// would give the same numbers (the probe variant's saving on gate/up is not realised here).
// DECISION: no EMA update of the calibration statistic at inference (§3.5 code step 7): a compressed
// model's output must not depend on what it evaluated before. DECISION (probe): the probe
// intermediate is the expert's real act((W_b1+Δ_1)p) ⊙ ((W_b3+Δ_3)p), not the reference's
// act(W_b1 p) ⊙ (W_b3 p) + act(Δ_1 p ⊙ Δ_3 p) (§3.5 PITFALL), and the reference's "position 0 is
// forced into a probe of ≤ 10 tokens" is not reproduced (the executor sees routed rows, not positions).
import { EngineError } from '../../errors';
import { tf } from '../../tensor/backend';
import type { DynamicPrune, Linear, Tensor2D } from '../types';
import { colsOf, rowsOf } from './host-gather';
import type { ExecLinear } from './linear';

export interface ExecDynamicPrune {
  remove: number;
  score: 'wanda' | 'probe';
  alpha: number | 'adaptive';
  /** stored intermediate width */
  channels: number;
  /** wanda: ‖W_b2[:, j]‖₂ of the base every expert's down shares */
  baseColNorm?: Float32Array;
  /** probe: per expert sqrt(Σ_i W_eff2[i, j]⁴), W_eff2 = W_b2 + ΔU_2 ΔV_2 */
  effNorm4?: Float32Array[];
  /** probe: g_j */
  calibration?: Float32Array;
  /** host copies of the down matrices (wT / baseT / bT [I, *]), read once per layer on first use */
  host: Map<Tensor2D, Float32Array>;
}

/** The down matrix's base (delta) or the whole matrix (dense, a trimmed expert on the base). */
function downBase(L: Linear): Tensor2D {
  if (L.kind === 'delta') return L.base;
  if (L.kind === 'dense') return L.w;
  throw new EngineError(`dynamic base pruning needs base+delta or base-only experts, got a ${L.kind} down`);
}

/** Executable form of a view's dynamic pruning, checked against its experts' down projections. */
export function buildExecDynamic(
  spec: DynamicPrune,
  downs: readonly Linear[],
  layer: number,
): ExecDynamicPrune {
  const where = { field: `layer ${layer} override.dynamicPrune` };
  const base = downBase(downs[0]!);
  if (downs.some((d) => downBase(d) !== base))
    throw new EngineError('dynamic base pruning needs one base tensor shared by every expert’s down', where);
  const I = base.shape[1];
  if (!Number.isInteger(spec.remove) || spec.remove < 0 || spec.remove >= I)
    throw new EngineError(`remove ${spec.remove}; allowed 0..${I - 1} (the stored width)`, where);
  const alpha = spec.alpha ?? 'adaptive';
  if (alpha !== 'adaptive' && !(alpha >= 0 && alpha <= 1))
    throw new EngineError(`alpha ${alpha}; allowed a number in [0, 1] or 'adaptive'`, where);
  const out: ExecDynamicPrune = {
    remove: spec.remove,
    score: spec.score,
    alpha,
    channels: I,
    host: new Map(),
  };
  if (spec.score === 'wanda') {
    out.baseColNorm = tf.tidy(() => tf.sqrt(tf.sum(tf.square(base), 0))).dataSync() as Float32Array;
  } else {
    if (!spec.calibration || spec.calibration.length !== I)
      throw new EngineError(
        `the probe score needs the calibration statistic of all ${I} channels, got ${spec.calibration?.length ?? 'none'}`,
        where,
      );
    out.calibration = spec.calibration;
    out.effNorm4 = downs.map((d) => {
      const t = tf.tidy(() => {
        const w = d.kind === 'delta' ? tf.add(d.base, tf.matMul(d.A, d.B)) : base;
        return tf.sqrt(tf.sum(tf.pow(w, 4), 0));
      });
      try {
        return t.dataSync() as Float32Array;
      } finally {
        t.dispose();
      }
    });
  }
  return out;
}

/** Kept channel indices (ascending) after dropping the `remove` lowest scores; ties drop the higher index. */
export function keepAllBut(scores: ArrayLike<number>, remove: number): Int32Array {
  const n = scores.length;
  for (let j = 0; j < n; j++)
    if (Number.isNaN(scores[j]!)) throw new EngineError(`dynamic pruning: channel ${j} scored NaN`);
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => scores[a]! - scores[b]! || b - a);
  const drop = new Uint8Array(n);
  for (let i = 0; i < remove; i++) drop[order[i]!] = 1;
  const keep = new Int32Array(n - remove);
  let k = 0;
  for (let j = 0; j < n; j++) if (!drop[j]) keep[k++] = j;
  return keep;
}

/** Paper score over the chunk: C_j = ‖W_b2[:, j]‖ · sqrt(Σ over routed pairs z_j²); one set for the layer. */
export function wandaKeep(d: ExecDynamicPrune, intermediates: readonly Tensor2D[]): Int32Array {
  const I = d.channels;
  const x2 = new Float64Array(I);
  for (const z of intermediates) {
    const v = z.dataSync() as Float32Array;
    for (let o = 0; o < v.length; o += I) for (let j = 0; j < I; j++) x2[j] += v[o + j]! ** 2;
  }
  const c = d.baseColNorm!;
  return keepAllBut(
    Float64Array.from(x2, (v, j) => c[j]! * Math.sqrt(v)),
    d.remove,
  );
}

/** Probe rows of one expert: the top max(⌈t/2⌉, 2) (at most t) by input L2 norm, in index order. */
export function probeRows(x: Tensor2D): Int32Array {
  const t = x.shape[0];
  const nT = tf.tidy(() => tf.sum(tf.square(x), 1));
  const n2 = nT.dataSync() as Float32Array;
  nT.dispose();
  const k = Math.min(t, Math.max(Math.ceil(t / 2), 2));
  const order = Array.from({ length: t }, (_, i) => i).sort((a, b) => n2[b]! - n2[a]! || a - b);
  return Int32Array.from(order.slice(0, k)).sort();
}

/** Probe score of expert e on its chunk rows x with intermediate z (rows of z are x's). */
export function probeKeep(d: ExecDynamicPrune, e: number, x: Tensor2D, z: Tensor2D): Int32Array {
  const rows = probeRows(x);
  const I = d.channels;
  const zv = z.dataSync() as Float32Array;
  const q = new Float64Array(I);
  for (const t of rows) for (let j = 0; j < I; j++) q[j] += zv[t * I + j]! ** 2;
  for (let j = 0; j < I; j++) q[j] /= rows.length;
  const g = d.calibration!;
  const w4 = d.effNorm4![e]!;
  const s = new Float64Array(d.channels);
  for (let j = 0; j < d.channels; j++) {
    const a = d.alpha === 'adaptive' ? q[j]! / (q[j]! + g[j]! + 1e-6) : d.alpha;
    s[j] = ((1 - a) * g[j]! + a * q[j]!) * w4[j]!;
  }
  return keepAllBut(s, d.remove);
}

/**
 * The down projection on the kept channels: z[:, keep] · (rows `keep` of wT / baseT and bT).
 * `memo` holds the selected matrices of this chunk (one per source tensor and channel set), so a
 * base shared by every expert is selected once when they share the set (wanda).
 */
export function prunedDown(
  d: ExecDynamicPrune,
  z: Tensor2D,
  L: ExecLinear,
  keep: Int32Array,
  memo: Map<Tensor2D, Tensor2D>,
): Tensor2D {
  const select = (m: Tensor2D) => {
    let r = memo.get(m);
    if (!r) {
      let h = d.host.get(m);
      if (!h) {
        h = m.dataSync() as Float32Array;
        d.host.set(m, h);
      }
      r = rowsOf(h, m.shape[1], keep);
      memo.set(m, r);
    }
    return r;
  };
  if (L.kind === 'factored') throw new EngineError('dynamic base pruning met a factored down projection');
  const W = select(L.kind === 'dense' ? L.wT : L.baseT);
  const B = L.kind === 'delta' ? select(L.bT) : null;
  const zk = colsOf(z.dataSync() as Float32Array, z.shape[0], z.shape[1], keep);
  try {
    return tf.tidy(() => {
      const y = tf.matMul(zk, W);
      if (L.kind === 'delta') return tf.add(y, tf.matMul(tf.matMul(zk, B!), L.aT));
      return L.bias ? tf.add(y, L.bias) : y;
    }) as Tensor2D;
  } finally {
    zk.dispose();
  }
}
