import { tf } from '../../tensor/backend';
import type { Tensor2D } from '../types';
import { applyLinear, type ExecLinear } from './linear';

export interface ExecExpert {
  gate: ExecLinear;
  up: ExecLinear;
  down: ExecLinear;
}

/** x · W for gate/up computed by the caller: `gate`/`up` = x·B of a shared factor, `*Base` = x·W_b. */
export interface GatedPre {
  gate?: Tensor2D;
  up?: Tensor2D;
  gateBase?: Tensor2D;
  upBase?: Tensor2D;
}

/** silu(gate(x)) · up(x), [n, I]. */
export function gatedIntermediate(x: Tensor2D, w: ExecExpert, pre?: GatedPre): Tensor2D {
  return tf.tidy(() => {
    const g = applyLinear(x, w.gate, pre?.gate, pre?.gateBase);
    const u = applyLinear(x, w.up, pre?.up, pre?.upBase);
    return tf.mul(tf.mul(g, tf.sigmoid(g)), u) as Tensor2D;
  });
}

/**
 * down(silu(gate(x)) · up(x)). Returns the intermediate too when asked (observers); otherwise it
 * is freed inside. `pre` holds x·B for gate/up whose factor B is shared across experts, and x·W_b
 * for a base shared across experts.
 */
export function gatedMlp(
  x: Tensor2D,
  w: ExecExpert,
  keepIntermediate: boolean,
  pre?: GatedPre,
): { out: Tensor2D; intermediate?: Tensor2D } {
  const act = gatedIntermediate(x, w, pre);
  const out = applyLinear(act, w.down);
  if (keepIntermediate) return { out, intermediate: act };
  act.dispose();
  return { out };
}
