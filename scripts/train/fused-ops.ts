// Differentiable building blocks with hand-written backward passes (tf.customGrad): fewer tape nodes,
// no dependence on gradient kernels the wasm backend lacks (gather → UnsortedSegmentSum), and attention
// done as a loop of 2-D matMuls, which tfjs-wasm runs ~10x faster than its batched matMul.
import { tf } from '../../src-main/engine/tensor/backend';

type T = tf.Tensor;

/**
 * tf.customGrad with a usable type: tfjs types the callback as variadic (Tensor | GradSaveFunc)[],
 * which no concrete (x, w, save) signature satisfies under strict mode.
 */
export const customOp = tf.customGrad as unknown as (
  f: (...args: never[]) => { value: T; gradFunc: (dy: T, saved: T[]) => T | T[] },
) => (...inputs: T[]) => T;

/** Row lookup table[ids]; the gradient is a scatter-add done in JS (cheap: N×h adds). */
export function embedding(table: T, ids: Int32Array): T {
  const f = customOp((tab: T) => {
    const [V, h] = tab.shape as [number, number];
    const idx = tf.tensor1d(ids, 'int32');
    const value = tf.gather(tab, idx);
    idx.dispose();
    return {
      value,
      gradFunc: (dy: T) => {
        const g = new Float32Array(V * h);
        const d = dy.dataSync();
        for (let i = 0; i < ids.length; i++) {
          const row = ids[i]! * h;
          const src = i * h;
          for (let j = 0; j < h; j++) g[row + j]! += d[src + j]!;
        }
        return tf.tensor2d(g, [V, h]);
      },
    };
  });
  return f(table);
}

/** RMSNorm over the last axis: x * rsqrt(mean(x²) + eps) * w. */
export function rmsNorm(x: T, w: T, eps: number): T {
  const f = customOp((xx: T, ww: T, save: tf.GradSaveFunc) => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xx), -1, true), eps));
    const xn = tf.mul(xx, r);
    save([xn, r, ww]);
    return {
      value: tf.mul(xn, ww),
      gradFunc: (dy: T, saved: T[]) => {
        const [xn2, r2, w2] = saved as [T, T, T];
        const g = tf.mul(dy, w2);
        const dx = tf.mul(r2, tf.sub(g, tf.mul(xn2, tf.mean(tf.mul(g, xn2), -1, true))));
        const dw = tf.sum(tf.mul(dy, xn2), 0);
        return [dx, dw];
      },
    };
  });
  return f(x, w);
}

export function silu(x: T): T {
  const f = customOp((xx: T, save: tf.GradSaveFunc) => {
    const s = tf.sigmoid(xx);
    save([xx, s]);
    return {
      value: tf.mul(xx, s),
      gradFunc: (dy: T, saved: T[]) => {
        const [x2, s2] = saved as [T, T];
        return tf.mul(dy, tf.mul(s2, tf.add(1, tf.mul(x2, tf.sub(1, s2)))));
      },
    };
  });
  return f(x);
}

/** Softmax over the last axis. */
export function softmax(x: T): T {
  const f = customOp((xx: T, save: tf.GradSaveFunc) => {
    const y = tf.softmax(xx);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: T, saved: T[]) => {
        const y2 = saved[0]!;
        return tf.mul(y2, tf.sub(dy, tf.sum(tf.mul(dy, y2), -1, true)));
      },
    };
  });
  return f(x);
}

/**
 * Mean next-token cross-entropy of logits [N, V] against `labels` (N ids).
 * Backward: (softmax − onehot) / N.
 */
export function softmaxCrossEntropy(logits: T, labels: Int32Array): T {
  const f = customOp((lg: T, save: tf.GradSaveFunc) => {
    const [N, V] = lg.shape as [number, number];
    const lse = tf.logSumExp(lg, -1, true);
    const flat = tf.tensor1d(
      Int32Array.from(labels, (l, i) => i * V + l),
      'int32',
    );
    const picked = tf.gather(tf.reshape(lg, [-1]), flat);
    const value = tf.div(tf.sub(tf.sum(lse), tf.sum(picked)), N);
    save([lg, lse]);
    return {
      value,
      gradFunc: (dy: T, saved: T[]) => {
        const [lg2, lse2] = saved as [T, T];
        // int32 one-hot then cast: tfjs-wasm's OneHot returns zeros when asked for float32 directly.
        const oh = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), V), 'float32');
        return tf.mul(tf.sub(tf.exp(tf.sub(lg2, lse2)), oh), tf.div(dy, N));
      },
    };
  });
  return f(logits);
}

/** Per-row negative log-likelihoods (no gradient), for evaluation. */
export function tokenNll(logits: T, labels: Int32Array): Float32Array {
  return tf.tidy(() => {
    const V = logits.shape[1]!;
    const lse = tf.logSumExp(logits, -1);
    const flat = tf.tensor1d(
      Int32Array.from(labels, (l, i) => i * V + l),
      'int32',
    );
    return tf.sub(lse, tf.gather(tf.reshape(logits, [-1]), flat)).dataSync() as Float32Array;
  });
}

export interface AttnShape {
  batch: number;
  seq: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

function causalMask(T: number): T {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return tf.tensor2d(m, [T, T]);
}

/**
 * Causal scaled-dot-product attention on token-major layouts: q [B·T, H·d], k/v [B·T, KV·d] (GQA:
 * query head h reads kv head ⌊h·KV/H⌋). Returns [B·T, H·d].
 */
export function causalAttention(q: T, k: T, v: T, s: AttnShape): T {
  const { batch: B, seq: L, heads: H, kvHeads: KV, headDim: d } = s;
  const group = H / KV;
  const scale = 1 / Math.sqrt(d);
  const f = customOp((qq: T, kk: T, vv: T, save: tf.GradSaveFunc) => {
    const mask = causalMask(L);
    const qs = tf
      .split(tf.reshape(qq, [B, L, H * d]), B, 0)
      .map((x) => tf.split(tf.reshape(x, [L, H * d]), H, 1));
    const ks = tf
      .split(tf.reshape(kk, [B, L, KV * d]), B, 0)
      .map((x) => tf.split(tf.reshape(x, [L, KV * d]), KV, 1));
    const vs = tf
      .split(tf.reshape(vv, [B, L, KV * d]), B, 0)
      .map((x) => tf.split(tf.reshape(x, [L, KV * d]), KV, 1));
    const probs: T[] = [];
    const rows: T[] = [];
    for (let b = 0; b < B; b++) {
      const heads: T[] = [];
      for (let h = 0; h < H; h++) {
        const kv = Math.floor(h / group);
        const sc = tf.add(tf.mul(tf.matMul(qs[b]![h]!, tf.transpose(ks[b]![kv]!)), scale), mask);
        const p = tf.softmax(sc);
        probs.push(p);
        heads.push(tf.matMul(p, vs[b]![kv]!));
      }
      rows.push(tf.concat(heads, 1));
    }
    save([qq, kk, vv, ...probs]);
    return {
      value: tf.concat(rows, 0),
      gradFunc: (dy: T, saved: T[]) => {
        const [q2, k2, v2, ...P] = saved as T[];
        const split = (x: T, n: number): T[][] =>
          tf.split(tf.reshape(x, [B, L, n * d]), B, 0).map((y) => tf.split(tf.reshape(y, [L, n * d]), n, 1));
        const Q = split(q2!, H);
        const K = split(k2!, KV);
        const Vv = split(v2!, KV);
        const dO = split(dy, H);
        const dq: T[] = [];
        const dk: T[] = [];
        const dv: T[] = [];
        for (let b = 0; b < B; b++) {
          const dqh: T[] = [];
          const dkh: (T | null)[] = new Array(KV).fill(null);
          const dvh: (T | null)[] = new Array(KV).fill(null);
          for (let h = 0; h < H; h++) {
            const kv = Math.floor(h / group);
            const p = P[b * H + h]!;
            const go = dO[b]![h]!;
            const pT = tf.transpose(p);
            const dvi = tf.matMul(pT, go);
            const dp = tf.matMul(go, tf.transpose(Vv[b]![kv]!));
            const ds = tf.mul(tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))), scale);
            dqh.push(tf.matMul(ds, K[b]![kv]!));
            const dki = tf.matMul(tf.transpose(ds), Q[b]![h]!);
            dkh[kv] = dkh[kv] ? tf.add(dkh[kv]!, dki) : dki;
            dvh[kv] = dvh[kv] ? tf.add(dvh[kv]!, dvi) : dvi;
          }
          dq.push(tf.concat(dqh, 1));
          dk.push(tf.concat(dkh as T[], 1));
          dv.push(tf.concat(dvh as T[], 1));
        }
        return [tf.concat(dq, 0), tf.concat(dk, 0), tf.concat(dv, 0)];
      },
    };
  });
  return f(q, k, v);
}
