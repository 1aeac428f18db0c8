// Fusion of a group's matrices (METHODS §2.6 step 4), on the tfjs backend; every result is a new
// tensor the caller owns (a single input is cloned).
//
// * LERP: element-wise unweighted mean.
// * SLERP, sequential: acc = M_1; for i = 2..n: acc = slerp(acc, M_i, t = 1/i), on the flattened
//   matrices, ω = arccos(clip(⟨a,b⟩/(‖a‖‖b‖), −1, 1)); sin ω < 1e-5 → (1−t)a + t b; else
//   sin((1−t)ω)/sin ω · a + sin(tω)/sin ω · b. The vectors are NOT normalised (the reference's later
//   definition overrides its normalising one). The three reductions run on the backend (f32), the
//   angle in f64; a zero vector (‖a‖‖b‖ = 0, NaN in the reference) takes the linear branch.
// * frequency: Σ w_i M_i with w_i = f_i / Σ f (uniform when every f_i is 0) — HC-SMoE's
//   frequency-weighted merging, an option here (the compression-MoE reference never weights).
import { tf } from '../../tensor/backend';

export type FusionRule = 'lerp' | 'slerp' | 'frequency';

export const SLERP_EPS = 1e-5;

/** Element-wise mean of equally shaped tensors. */
export function lerp<T extends tf.Tensor>(ms: readonly T[]): T {
  if (ms.length === 0) throw new RangeError('lerp of an empty group');
  if (ms.length === 1) return tf.clone(ms[0]!);
  return tf.tidy(() => tf.div(tf.addN(ms as T[]), ms.length)) as T;
}

/** The cosine of the angle between flattened a and b (f64 from f32 reductions); null when a norm is 0. */
export function cosine(a: tf.Tensor, b: tf.Tensor): number | null {
  const r = tf.tidy(() => tf.stack([tf.sum(tf.mul(a, b)), tf.sum(tf.mul(a, a)), tf.sum(tf.mul(b, b))]));
  const [dot, aa, bb] = r.dataSync();
  r.dispose();
  const den = Math.sqrt(aa! * bb!);
  return den > 0 && Number.isFinite(den) ? Math.max(-1, Math.min(1, dot! / den)) : null;
}

/** slerp(a, b, t) on flattened tensors, unnormalised (METHODS §2.6). */
export function slerp<T extends tf.Tensor>(a: T, b: T, t: number): T {
  const c = cosine(a, b);
  const omega = c === null ? 0 : Math.acos(c);
  const s = Math.sin(omega);
  return tf.tidy(() => {
    if (s < SLERP_EPS) return tf.add(tf.mul(a, 1 - t), tf.mul(b, t));
    return tf.add(tf.mul(a, Math.sin((1 - t) * omega) / s), tf.mul(b, Math.sin(t * omega) / s));
  }) as T;
}

/** acc = M_1; acc = slerp(acc, M_i, 1/i) for i = 2..n. */
export function slerpSequential<T extends tf.Tensor>(ms: readonly T[]): T {
  if (ms.length === 0) throw new RangeError('slerp of an empty group');
  let acc = tf.clone(ms[0]!);
  for (let i = 1; i < ms.length; i++) {
    const next = slerp(acc, ms[i]!, 1 / (i + 1));
    acc.dispose();
    acc = next;
  }
  return acc;
}

/** Σ w_i M_i with w normalised to sum 1 (uniform when Σ w = 0 or not finite). */
export function weightedMean<T extends tf.Tensor>(ms: readonly T[], weights: readonly number[]): T {
  if (ms.length === 0) throw new RangeError('weighted mean of an empty group');
  if (ms.length === 1) return tf.clone(ms[0]!);
  const sum = weights.reduce((a, w) => a + Math.max(0, w), 0);
  if (!(sum > 0) || !Number.isFinite(sum)) return lerp(ms);
  return tf.tidy(() => tf.addN(ms.map((m, i) => tf.mul(m, Math.max(0, weights[i]!) / sum)))) as T;
}

/** Fuse a group's tensors by the rule (`weights`: the members' frequencies, for 'frequency'). */
export function fuse<T extends tf.Tensor>(rule: FusionRule, ms: readonly T[], weights: readonly number[]): T {
  switch (rule) {
    case 'lerp':
      return lerp(ms);
    case 'slerp':
      return slerpSequential(ms);
    case 'frequency':
      return weightedMean(ms, weights);
  }
}
