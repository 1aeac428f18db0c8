// Differentiable tiny MoE decoder (Mixtral / DeepSeek-MoE v1 layout) for training on tfjs.
// Weights are stored input-major ([in, out]) so every projection is a plain matMul (fast on wasm);
// the exporter transposes them to HF's [out, in]. Experts of a layer are concatenated along the
// intermediate axis and computed densely: every expert sees every token and its output is scaled by
// the (masked) router weight, which equals sparse top-k dispatch in the forward pass.

import { Mulberry32 } from '../../src-main/engine/linalg/prng';
import { tf } from '../../src-main/engine/tensor/backend';
import { type AttnShape, causalAttention, embedding, rmsNorm, silu, softmax } from './fused-ops';
import { routeLists, sparseExperts } from './sparse-moe';
import { headDim, isMoeLayer, type TinyArch } from './tiny-arch';

type T = tf.Tensor;

export type ParamShapes = Map<string, number[]>;

/** Internal parameter names → shapes, in a fixed order (that order fixes the seeded init). */
export function paramShapes(a: TinyArch): ParamShapes {
  const h = a.hidden;
  const d = headDim(a);
  const s = new Map<string, number[]>();
  s.set('embed', [a.vocab, h]);
  for (let l = 0; l < a.layers; l++) {
    const p = `l${l}.`;
    s.set(`${p}ln1`, [h]);
    s.set(`${p}wq`, [h, a.heads * d]);
    s.set(`${p}wk`, [h, a.kvHeads * d]);
    s.set(`${p}wv`, [h, a.kvHeads * d]);
    s.set(`${p}wo`, [a.heads * d, h]);
    s.set(`${p}ln2`, [h]);
    if (isMoeLayer(a, l)) {
      const EI = a.experts * a.moeIntermediate;
      s.set(`${p}router`, [h, a.experts]);
      s.set(`${p}w1`, [h, EI]);
      s.set(`${p}w3`, [h, EI]);
      s.set(`${p}w2`, [EI, h]);
      if (a.sharedExperts > 0) {
        const SI = a.sharedExperts * a.moeIntermediate;
        s.set(`${p}sg`, [h, SI]);
        s.set(`${p}su`, [h, SI]);
        s.set(`${p}sd`, [SI, h]);
      }
    } else {
      s.set(`${p}dg`, [h, a.denseIntermediate]);
      s.set(`${p}du`, [h, a.denseIntermediate]);
      s.set(`${p}dd`, [a.denseIntermediate, h]);
    }
  }
  s.set('norm', [h]);
  s.set('lm_head', [h, a.vocab]);
  return s;
}

/** Seeded init: N(0, 0.02), residual-output projections scaled by 1/√(2L), norms at 1. */
export function initParams(a: TinyArch, seed: number): Map<string, Float32Array> {
  const rng = new Mulberry32(seed);
  const out = new Map<string, Float32Array>();
  const resid = 0.02 / Math.sqrt(2 * a.layers);
  for (const [name, shape] of paramShapes(a)) {
    const n = shape.reduce((x, y) => x * y, 1);
    const leaf = name.split('.').pop()!;
    if (['ln1', 'ln2', 'norm'].includes(leaf)) out.set(name, new Float32Array(n).fill(1));
    else out.set(name, rng.normals(n, ['wo', 'w2', 'sd', 'dd'].includes(leaf) ? resid : 0.02));
  }
  return out;
}

export interface ForwardOut {
  logits: T;
  /** Switch/Mixtral load-balancing loss summed over MoE layers (1 per layer when balanced). */
  aux: T;
  /** per MoE layer: routed-token counts per expert (top-k selections). */
  routed: Map<number, Float64Array>;
}

const ropeCache = new Map<string, { cos: T; sin: T; rot: T }>();

/** cos/sin tables [B·T, H·d] and the block-diagonal rotate_half matrix [H·d, H·d] (HF convention). */
function ropeTables(a: TinyArch, B: number, L: number, H: number): { cos: T; sin: T; rot: T } {
  const key = `${a.ropeTheta}/${headDim(a)}/${B}/${L}/${H}`;
  const hit = ropeCache.get(key);
  if (hit) return hit;
  const d = headDim(a);
  const half = d / 2;
  const W = H * d;
  const cos = new Float32Array(B * L * W);
  const sin = new Float32Array(B * L * W);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < L; t++)
      for (let h = 0; h < H; h++)
        for (let j = 0; j < d; j++) {
          const inv = a.ropeTheta ** (-(2 * (j % half)) / d);
          const o = (b * L + t) * W + h * d + j;
          cos[o] = Math.cos(t * inv);
          sin[o] = Math.sin(t * inv);
        }
  const rot = new Float32Array(W * W);
  for (let h = 0; h < H; h++)
    for (let j = 0; j < half; j++) {
      rot[(h * d + j + half) * W + h * d + j] = -1; // out_j = -x_{j+d/2}
      rot[(h * d + j) * W + h * d + j + half] = 1; // out_{j+d/2} = x_j
    }
  const entry = {
    cos: tf.keep(tf.tensor2d(cos, [B * L, W])),
    sin: tf.keep(tf.tensor2d(sin, [B * L, W])),
    rot: tf.keep(tf.tensor2d(rot, [W, W])),
  };
  ropeCache.set(key, entry);
  return entry;
}

function rope(x: T, t: { cos: T; sin: T; rot: T }): T {
  return tf.add(tf.mul(x, t.cos), tf.mul(tf.matMul(x, t.rot), t.sin));
}

function swiglu(x: T, g: T, u: T, dn: T): T {
  return tf.matMul(tf.mul(silu(tf.matMul(x, g)), tf.matMul(x, u)), dn);
}

/** Top-k mask computed outside the tape (tfjs TopK has no gradient); ties go to the lower index. */
function topKMask(probs: Float32Array, N: number, E: number, k: number, counts: Float64Array): Float32Array {
  const mask = new Float32Array(N * E);
  const idx = new Int32Array(E);
  for (let n = 0; n < N; n++) {
    const row = n * E;
    for (let e = 0; e < E; e++) idx[e] = e;
    for (let s = 0; s < k; s++) {
      let best = s;
      for (let j = s + 1; j < E; j++) if (probs[row + idx[j]!]! > probs[row + idx[best]!]!) best = j;
      [idx[s], idx[best]] = [idx[best]!, idx[s]!];
      mask[row + idx[s]!] = 1;
      counts[idx[s]!]! += 1;
    }
  }
  return mask;
}

/**
 * 'sparse': each expert multiplies only its routed tokens (custom backward, JS scatter-adds);
 * 'dense': every expert processes every token, outputs scaled by the masked weights (same forward).
 */
export type Dispatch = 'sparse' | 'dense';

function moe(
  a: TinyArch,
  p: (n: string) => T,
  pre: string,
  x: T,
  N: number,
  dispatch: Dispatch,
): { y: T; aux: T; counts: Float64Array } {
  const E = a.experts;
  const I = a.moeIntermediate;
  const probs = softmax(tf.matMul(x, p(`${pre}router`)));
  const counts = new Float64Array(E);
  const maskData = topKMask(probs.dataSync() as Float32Array, N, E, a.topK, counts);
  const mask = tf.tensor2d(maskData, [N, E]);
  let w = tf.mul(probs, mask);
  if (a.normTopK) w = tf.div(w, tf.add(tf.sum(w, -1, true), 1e-20));
  let y: T;
  if (dispatch === 'sparse') {
    y = sparseExperts(x, p(`${pre}w1`), p(`${pre}w3`), p(`${pre}w2`), w, routeLists(maskData, N, E), I);
  } else {
    const act = tf.mul(silu(tf.matMul(x, p(`${pre}w1`))), tf.matMul(x, p(`${pre}w3`)));
    const scaled = tf.reshape(tf.mul(tf.reshape(act, [N, E, I]), tf.reshape(w, [N, E, 1])), [N, E * I]);
    y = tf.matMul(scaled, p(`${pre}w2`));
  }
  if (a.sharedExperts > 0) y = tf.add(y, swiglu(x, p(`${pre}sg`), p(`${pre}su`), p(`${pre}sd`)));
  // Switch-style balance loss: E · Σ_e f_e · P_e with f_e the routed fraction (constant) and P_e the mean prob.
  const f = tf.tensor1d(Float32Array.from(counts, (c) => (c * E) / (N * a.topK)));
  const aux = tf.sum(tf.mul(tf.mean(probs, 0), f));
  return { y, aux, counts };
}

/** Forward over B sequences of length L given as one flat id array (B·L). */
export function forward(
  a: TinyArch,
  p: (n: string) => T,
  ids: Int32Array,
  B: number,
  L: number,
  dispatch: Dispatch = 'sparse',
): ForwardOut {
  const N = B * L;
  const d = headDim(a);
  const shape: AttnShape = { batch: B, seq: L, heads: a.heads, kvHeads: a.kvHeads, headDim: d };
  const rq = ropeTables(a, B, L, a.heads);
  const rk = a.kvHeads === a.heads ? rq : ropeTables(a, B, L, a.kvHeads);
  let x = embedding(p('embed'), ids);
  let aux: T = tf.scalar(0);
  const routed = new Map<number, Float64Array>();
  for (let l = 0; l < a.layers; l++) {
    const pre = `l${l}.`;
    const hn = rmsNorm(x, p(`${pre}ln1`), a.rmsEps);
    const q = rope(tf.matMul(hn, p(`${pre}wq`)), rq);
    const k = rope(tf.matMul(hn, p(`${pre}wk`)), rk);
    const v = tf.matMul(hn, p(`${pre}wv`));
    x = tf.add(x, tf.matMul(causalAttention(q, k, v, shape), p(`${pre}wo`)));
    const hm = rmsNorm(x, p(`${pre}ln2`), a.rmsEps);
    if (isMoeLayer(a, l)) {
      const m = moe(a, p, pre, hm, N, dispatch);
      x = tf.add(x, m.y);
      aux = tf.add(aux, m.aux);
      routed.set(l, m.counts);
    } else {
      x = tf.add(x, swiglu(hm, p(`${pre}dg`), p(`${pre}du`), p(`${pre}dd`)));
    }
  }
  const logits = tf.matMul(rmsNorm(x, p('norm'), a.rmsEps), p('lm_head'));
  return { logits, aux, routed };
}
