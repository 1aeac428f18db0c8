import { tf } from '../../tensor/backend';

/** LayerNorm over the last axis with biased variance (torch.nn.LayerNorm). */
export function layerNorm<T extends tf.Tensor>(
  x: T,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D | undefined,
  eps: number,
): T {
  return tf.tidy(() => {
    const mu = tf.mean(x, -1, true);
    const xc = tf.sub(x, mu);
    const v = tf.mean(tf.square(xc), -1, true);
    const y = tf.mul(tf.mul(xc, tf.rsqrt(tf.add(v, eps))), weight);
    return (bias ? tf.add(y, bias) : y) as T;
  });
}
