import { tf } from '../../tensor/backend';
import type { Tensor2D } from '../types';
import { applyLinear, type ExecLinear } from './linear';

export interface ExecExpert {
  gate: ExecLinear;
  up: ExecLinear;
  down: ExecLinear;
}

/**
 * down(silu(gate(x)) · up(x)). Returns the intermediate too when asked (observers); otherwise it
 * is freed inside. `pre` holds x·B for gate/up whose factor B is shared across experts.
 */
export function gatedMlp(
  x: Tensor2D,
  w: ExecExpert,
  keepIntermediate: boolean,
  pre?: { gate?: Tensor2D; up?: Tensor2D },
): { out: Tensor2D; intermediate?: Tensor2D } {
  const act = tf.tidy(() => {
    const g = applyLinear(x, w.gate, pre?.gate);
    const u = applyLinear(x, w.up, pre?.up);
    return tf.mul(tf.mul(g, tf.sigmoid(g)), u) as Tensor2D;
  });
  const out = applyLinear(act, w.down);
  if (keepIntermediate) return { out, intermediate: act };
  act.dispose();
  return { out };
}
