// Causal self-attention with GQA (query head h reads kv head floor(h / groups), as HF repeat_kv),
// optional q/k/v biases, q/k RMSNorm variants, clip_qkv, RoPE and a sliding window. Scores are
// computed per sequence and per query chunk so activation memory stays bounded for long windows.
// With a KV cache the new tokens' rotated keys and values are appended to the cached ones and the
// queries (at absolute positions past..past+T-1) attend to every cached key the mask allows.
import { tf } from '../../tensor/backend';
import type { AttentionSpec, Tensor1D, Tensor2D } from '../types';
import { causalMask, firstVisibleKey } from './causal-mask';
import type { LayerKv } from './kv-cache';
import { rmsNorm } from './rms-norm';
import { applyRope, type RopeTables } from './rope';
import { HostRows } from './row-blocks';

export interface AttentionWeights {
  /** Pre-transposed projections [in, out]. */
  qT: Tensor2D;
  kT: Tensor2D;
  vT: Tensor2D;
  oT: Tensor2D;
  qBias?: Tensor1D;
  kBias?: Tensor1D;
  vBias?: Tensor1D;
  oBias?: Tensor1D;
  qNorm?: Tensor1D;
  kNorm?: Tensor1D;
}

export interface AttentionShape {
  batch: number;
  seqLen: number;
  window: number | null;
  normEps: number;
  /** Bytes allowed for one block of scores [H, qChunk, keys]. */
  scoreBudgetBytes: number;
  /**
   * This layer's KV cache: the new keys/values are appended to it and the queries sit after its
   * `past` positions. `rope` must then hold the rows of positions past..past+seqLen-1.
   */
  kv?: LayerKv;
}

/** Kv head index of each query head. */
export function gqaHeadMap(heads: number, kvHeads: number): Int32Array {
  const groups = heads / kvHeads;
  return Int32Array.from({ length: heads }, (_, h) => Math.floor(h / groups));
}

function project(x: Tensor2D, wT: Tensor2D, bias: Tensor1D | undefined): Tensor2D {
  const y: Tensor2D = tf.matMul(x, wT);
  return bias ? (tf.add(y, bias) as Tensor2D) : y;
}

/** x: normed hidden states [B·T, h] -> attention output after o_proj [B·T, h]. */
export function attention(
  x: Tensor2D,
  w: AttentionWeights,
  spec: AttentionSpec,
  rope: RopeTables,
  s: AttentionShape,
): Tensor2D {
  const { heads: H, kvHeads: KV, headDim: D } = spec;
  const { batch: B, seqLen: T } = s;
  const [q4, k4, v4] = tf.tidy(() => {
    let q = project(x, w.qT, w.qBias);
    let k = project(x, w.kT, w.kBias);
    let v = project(x, w.vT, w.vBias);
    if (spec.qkNorm === 'full') {
      q = rmsNorm(q, w.qNorm!, s.normEps);
      k = rmsNorm(k, w.kNorm!, s.normEps);
    }
    if (spec.clipQkv !== null) {
      const c = spec.clipQkv;
      q = tf.clipByValue(q, -c, c);
      k = tf.clipByValue(k, -c, c);
      v = tf.clipByValue(v, -c, c);
    }
    let qh = tf.reshape(q, [B, T, H, D]) as tf.Tensor4D;
    let kh = tf.reshape(k, [B, T, KV, D]) as tf.Tensor4D;
    if (spec.qkNorm === 'per-head') {
      qh = rmsNorm(qh, w.qNorm!, s.normEps);
      kh = rmsNorm(kh, w.kNorm!, s.normEps);
    }
    return [applyRope(qh, rope), applyRope(kh, rope), tf.reshape(v, [B, T, KV, D]) as tf.Tensor4D];
  });
  // tfjs-wasm runs only 2-D matMul on its fast (XNNPACK) path, batched matMul is ~20x slower; so
  // the g query heads sharing one kv head are stacked as rows: [g·n, D] x [D, keys] per kv head.
  const g = H / KV;
  const scale = 1 / Math.sqrt(D);
  const perSeq: Tensor2D[] = [];
  const past = s.kv?.past ?? 0;
  if (s.kv && s.kv.keys.length !== 0 && s.kv.keys.length !== B)
    throw new RangeError(`KV cache holds ${s.kv.keys.length} sequences, the batch has ${B}`);
  const Tk = past + T;
  const qChunk = Math.max(1, Math.min(T, Math.floor(s.scoreBudgetBytes / (4 * g * Tk))));
  // sequence b's rows: one sequence is the whole tensor; several are cut on the host (HostRows:
  // tfjs-wasm's Slice copies its whole input per call, quadratic in the batch)
  const rowsOf = (t: tf.Tensor4D, n: number): HostRows | null => {
    if (B === 1) return null;
    const flat = tf.reshape(t, [B * T, n * D]) as Tensor2D;
    try {
      return new HostRows(flat);
    } finally {
      flat.dispose();
    }
  };
  const [qRows, kRows, vRows] = [rowsOf(q4, H), rowsOf(k4, KV), rowsOf(v4, KV)];
  for (let b = 0; b < B; b++) {
    let [qb, kbT, vb] = tf.tidy(() => {
      const pick = (t: tf.Tensor4D, n: number, rows: HostRows | null) =>
        tf.reshape(rows ? rows.block(b * T, T) : t, [T, n, D]);
      return [
        tf.transpose(pick(q4, H, qRows), [1, 0, 2]) as tf.Tensor3D, // [H, T, D]
        tf.transpose(pick(k4, KV, kRows), [1, 2, 0]) as tf.Tensor3D, // [KV, D, T]
        tf.transpose(pick(v4, KV, vRows), [1, 0, 2]) as tf.Tensor3D, // [KV, T, D]
      ];
    });
    if (s.kv) [kbT, vb] = s.kv.append(b, kbT, vb);
    const groups: tf.Tensor3D[] = [];
    for (let kv = 0; kv < KV; kv++) {
      const chunks: tf.Tensor3D[] = [];
      for (let q0 = 0; q0 < T; q0 += qChunk) {
        const q1 = Math.min(T, q0 + qChunk);
        const n = q1 - q0;
        // absolute positions of the queries; keys are indexed absolutely (cache first)
        const a0 = past + q0;
        const a1 = past + q1;
        const k0 = firstVisibleKey(a0, s.window);
        chunks.push(
          tf.tidy(() => {
            const qc = tf.reshape(tf.slice(qb, [kv * g, q0, 0], [g, n, D]), [g * n, D]);
            const kc = tf.reshape(tf.slice(kbT, [kv, 0, k0], [1, D, a1 - k0]), [D, a1 - k0]);
            const vc = tf.reshape(tf.slice(vb, [kv, k0, 0], [1, a1 - k0, D]), [a1 - k0, D]);
            const scores = tf.add(tf.mul(tf.matMul(qc, kc), scale), causalMask(a0, a1, k0, a1, s.window, g));
            return tf.reshape(tf.matMul(tf.softmax(scores), vc), [g, n, D]) as tf.Tensor3D;
          }),
        );
      }
      groups.push(chunks.length === 1 ? chunks[0]! : (tf.concat(chunks, 1) as tf.Tensor3D));
      if (chunks.length > 1) tf.dispose(chunks);
    }
    perSeq.push(
      tf.tidy(() => tf.reshape(tf.transpose(tf.concat(groups, 0), [1, 0, 2]), [T, H * D]) as Tensor2D),
    );
    // the cache owns the joined keys/values it returned
    tf.dispose(s.kv ? [qb, ...groups] : [qb, kbT, vb, ...groups]);
  }
  tf.dispose([q4, k4, v4]);
  s.kv?.advance(T);
  const joined = perSeq.length === 1 ? perSeq[0]! : tf.concat(perSeq, 0);
  const out = tf.tidy(() => project(joined, w.oT, w.oBias));
  tf.dispose(perSeq.length === 1 ? joined : [joined, ...perSeq]);
  return out;
}
