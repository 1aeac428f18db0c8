// Rotary position embedding, HF rotate_half layout: the first rotaryDim dims of a head are split in
// halves (x1, x2) and rotated as x·cos + (-x2, x1)·sin; dims beyond rotaryDim pass through.
import { tf } from '../../tensor/backend';
import type { RopeSpec } from '../types';

export interface RopeTables {
  /** [T, rotaryDim] */
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
}

/** Inverse frequencies (and output scale) for a sequence of length seqLen. */
export function ropeFrequencies(spec: RopeSpec, seqLen: number): { invFreq: Float64Array; mscale: number } {
  const half = spec.rotaryDim / 2;
  const invFreq = new Float64Array(half);
  const lr = spec.longrope;
  const long = lr !== undefined && seqLen > lr.originalMaxPositions;
  for (let i = 0; i < half; i++) {
    // HF computes base ** (arange(0, dim, 2) / dim) in float32; match that rounding.
    const expo = Math.fround((2 * i) / spec.rotaryDim);
    const f = Math.fround(
      1 /
        Math.fround(
          Math.fround(spec.theta ** expo) * (lr ? (long ? lr.longFactor[i]! : lr.shortFactor[i]!) : 1),
        ),
    );
    invFreq[i] = f;
  }
  return { invFreq, mscale: lr ? (long ? lr.longMscale : lr.shortMscale) : 1 };
}

export function ropeTables(spec: RopeSpec, seqLen: number): RopeTables {
  return ropeTablesAt(spec, seqLen, 0, seqLen);
}

/**
 * Rows for positions start..start+count-1 of a sequence seqLen long (incremental decoding: the
 * frequencies, longrope's short/long choice included, follow the length so far, as HF's rotary
 * embedding computes them from the cached length plus the new tokens).
 */
export function ropeTablesAt(spec: RopeSpec, seqLen: number, start: number, count: number): RopeTables {
  const d = spec.rotaryDim;
  const half = d / 2;
  const { invFreq, mscale } = ropeFrequencies(spec, seqLen);
  const cos = new Float32Array(count * d);
  const sin = new Float32Array(count * d);
  for (let r = 0; r < count; r++) {
    const t = start + r;
    for (let i = 0; i < half; i++) {
      const a = Math.fround(t * invFreq[i]!);
      const c = Math.cos(a) * mscale;
      const s = Math.sin(a) * mscale;
      cos[r * d + i] = c;
      cos[r * d + half + i] = c;
      sin[r * d + i] = s;
      sin[r * d + half + i] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [count, d]), sin: tf.tensor2d(sin, [count, d]) };
}

/** x [B, T, H, D] -> rotated, using tables for T positions 0..T-1. */
export function applyRope(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, T, H, D] = x.shape;
    const rd = tables.cos.shape[1];
    const cos = tf.reshape(tables.cos, [1, T, 1, rd]);
    const sin = tf.reshape(tables.sin, [1, T, 1, rd]);
    const rot = rd === D ? x : tf.slice(x, [0, 0, 0, 0], [B, T, H, rd]);
    const x1 = tf.slice(rot, [0, 0, 0, 0], [B, T, H, rd / 2]);
    const x2 = tf.slice(rot, [0, 0, 0, rd / 2], [B, T, H, rd / 2]);
    const rotated = tf.concat([tf.neg(x2), x1], 3);
    const out = tf.add(tf.mul(rot, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
    return rd === D
      ? out
      : (tf.concat([out, tf.slice(x, [0, 0, 0, rd], [B, T, H, D - rd])], 3) as tf.Tensor4D);
  });
}
