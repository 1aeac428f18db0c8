// Sparse top-k expert dispatch with a hand-written backward pass: each expert multiplies only the
// tokens routed to it (k/E of the dense work). Gathers use tf.gather forward; every scatter-add
// (outputs into tokens, token gradients, router-weight gradients) is done in JS, because the wasm
// backend has no gradient kernels for gather (UnsortedSegmentSum) and the data is small (N×h).
import { tf } from '../../src-main/engine/tensor/backend';
import { customOp } from './fused-ops';

type T = tf.Tensor;

/** Token indices routed to each expert, in token order. */
export function routeLists(mask: Float32Array, N: number, E: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: E }, () => []);
  for (let n = 0; n < N; n++) for (let e = 0; e < E; e++) if (mask[n * E + e]! > 0) lists[e]!.push(n);
  return lists.map((l) => Int32Array.from(l));
}

function scatterAddRows(dst: Float32Array, rows: Int32Array, src: Float32Array, h: number): void {
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i]! * h;
    const s = i * h;
    for (let j = 0; j < h; j++) dst[o + j]! += src[s + j]!;
  }
}

/**
 * y[n] = Σ_{e ∋ n} w[n,e] · down_e(silu(x[n]·gate_e) ⊙ (x[n]·up_e)); weights concatenated per expert
 * along the intermediate axis (w1, w3: [h, E·I], w2: [E·I, h]); routing weights w: [N, E].
 */
export function sparseExperts(x: T, w1: T, w3: T, w2: T, w: T, routes: Int32Array[], I: number): T {
  const E = routes.length;
  const f = customOp((xx: T, g1: T, g3: T, g2: T, ww: T, save: tf.GradSaveFunc) => {
    const [N, h] = xx.shape as [number, number];
    const y = new Float32Array(N * h);
    const kept: T[] = [];
    for (let e = 0; e < E; e++) {
      const idx = routes[e]!;
      if (idx.length === 0) continue;
      const out = tf.tidy(() => {
        const ti = tf.tensor1d(idx, 'int32');
        const xe = tf.gather(xx, ti);
        const a = tf.matMul(xe, tf.slice(g1, [0, e * I], [h, I]));
        const b = tf.matMul(xe, tf.slice(g3, [0, e * I], [h, I]));
        const we = tf.reshape(
          tf.gather(
            tf.reshape(ww, [-1]),
            tf.tensor1d(
              Int32Array.from(idx, (n) => n * E + e),
              'int32',
            ),
          ),
          [-1, 1],
        );
        const g = tf.mul(tf.mul(a, tf.sigmoid(a)), b);
        const ye = tf.matMul(tf.mul(g, we), tf.slice(g2, [e * I, 0], [I, h]));
        return [a, b, ye];
      });
      scatterAddRows(y, idx, out[2]!.dataSync() as Float32Array, h);
      out[2]!.dispose();
      kept.push(out[0]!, out[1]!);
    }
    save([xx, g1, g3, g2, ww, ...kept]);
    return {
      value: tf.tensor2d(y, [N, h]),
      gradFunc: (dy: T, saved: T[]) => {
        const [x2, s1, s3, s2, w2t, ...ab] = saved as T[];
        const dx = new Float32Array(N * h);
        const dw = new Float32Array(N * E);
        const d1: T[] = [];
        const d3: T[] = [];
        const d2: T[] = [];
        const wAll = w2t!.dataSync();
        let k = 0;
        for (let e = 0; e < E; e++) {
          const idx = routes[e]!;
          if (idx.length === 0) {
            d1.push(tf.zeros([h, I]));
            d3.push(tf.zeros([h, I]));
            d2.push(tf.zeros([I, h]));
            continue;
          }
          const a = ab[k++]!;
          const b = ab[k++]!;
          const [gx, gw, g1e, g3e, g2e] = tf.tidy(() => {
            const ti = tf.tensor1d(idx, 'int32');
            const xe = tf.gather(x2!, ti);
            const dye = tf.gather(dy, ti);
            const we = tf.tensor2d(
              Float32Array.from(idx, (n) => wAll[n * E + e]!),
              [idx.length, 1],
            );
            const sa = tf.sigmoid(a);
            const s = tf.mul(a, sa);
            const g = tf.mul(s, b);
            const W1 = tf.slice(s1!, [0, e * I], [h, I]);
            const W3 = tf.slice(s3!, [0, e * I], [h, I]);
            const W2 = tf.slice(s2!, [e * I, 0], [I, h]);
            const dge = tf.matMul(dye, tf.transpose(W2)); // d(g·w)
            const dW2 = tf.matMul(tf.transpose(tf.mul(g, we)), dye);
            const dg = tf.mul(dge, we);
            const dwe = tf.sum(tf.mul(dge, g), -1);
            const db = tf.mul(dg, s);
            const da = tf.mul(tf.mul(dg, b), tf.mul(sa, tf.add(1, tf.mul(a, tf.sub(1, sa)))));
            const xeT = tf.transpose(xe);
            const dW1 = tf.matMul(xeT, da);
            const dW3 = tf.matMul(xeT, db);
            const dxe = tf.add(tf.matMul(da, tf.transpose(W1)), tf.matMul(db, tf.transpose(W3)));
            return [dxe, dwe, dW1, dW3, dW2];
          });
          scatterAddRows(dx, idx, gx!.dataSync() as Float32Array, h);
          const gwd = gw!.dataSync();
          for (let i = 0; i < idx.length; i++) dw[idx[i]! * E + e] = gwd[i]!;
          gx!.dispose();
          gw!.dispose();
          d1.push(g1e!);
          d3.push(g3e!);
          d2.push(g2e!);
        }
        return [
          tf.tensor2d(dx, [N, h]),
          tf.concat(d1, 1),
          tf.concat(d3, 1),
          tf.concat(d2, 0),
          tf.tensor2d(dw, [N, E]),
        ];
      },
    };
  });
  return f(x, w1, w3, w2, w);
}
