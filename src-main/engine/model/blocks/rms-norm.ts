import { tf } from '../../tensor/backend';

/** RMSNorm over the last axis, computed in f32: x · rsqrt(mean(x²) + eps) · w. */
export function rmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight) as T;
  });
}
