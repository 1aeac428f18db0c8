// Gradient functions for the handful of kernels the trainer's graph records on the tape.
// tfjs-core's CJS build (what Node resolves) ships without `register_all_gradients`, and its ESM build
// cannot be imported by Node (directory/extensionless imports). These are also faster on wasm than the
// stock ones: a matMul gradient multiplies by explicitly transposed operands, because
// `matMul(a, b, false, true)` is 10-40x slower there.
import { tf } from '../../src-main/engine/tensor/backend';

type T = tf.Tensor;

/** Sum `dy` down to `shape` (undo broadcasting). */
function unbroadcast(dy: T, shape: number[]): T {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(tf.sum(dy, axes), shape);
}

function t2(x: T): T {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return tf.transpose(x, perm);
}

let registered = false;

export function registerTrainGradients(): void {
  if (registered) return;
  registered = true;
  const reg = (cfg: tf.GradConfig): void => tf.registerGradient(cfg);
  reg({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as T[];
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (transposeA || transposeB) throw new Error('trainer gradients: transposed matMul is not supported');
      return { a: () => tf.matMul(dy as T, t2(b!)), b: () => tf.matMul(t2(a!), dy as T) };
    },
  });
  const binary = (kernelName: string, fa: (dy: T, a: T, b: T) => T, fb: (dy: T, a: T, b: T) => T): void =>
    reg({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as T[];
        return {
          a: () => unbroadcast(fa(dy as T, a!, b!), a!.shape),
          b: () => unbroadcast(fb(dy as T, a!, b!), b!.shape),
        };
      },
    });
  binary(
    'Add',
    (dy) => dy,
    (dy) => dy,
  );
  binary(
    'Sub',
    (dy) => dy,
    (dy) => tf.neg(dy),
  );
  binary(
    'Multiply',
    (dy, _a, b) => tf.mul(dy, b),
    (dy, a) => tf.mul(dy, a),
  );
  binary(
    'RealDiv',
    (dy, _a, b) => tf.div(dy, b),
    (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b))),
  );
  const reduce = (kernelName: string, scaleByCount: boolean): void =>
    reg({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved as T[];
        const axis = (attrs as { axis: number | number[] | null }).axis;
        const all = x!.shape.map((_, i) => i);
        const axes = (axis === null || axis === undefined ? all : Array.isArray(axis) ? axis : [axis]).map(
          (a) => (a < 0 ? a + x!.rank : a),
        );
        const kept = x!.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const count = axes.reduce((n, a) => n * x!.shape[a]!, 1);
        return {
          x: () => {
            const g = tf.mul(tf.reshape(dy as T, kept), tf.onesLike(x!));
            return scaleByCount ? tf.div(g, count) : g;
          },
        };
      },
    });
  reduce('Sum', false);
  reduce('Mean', true);
  reg({
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as T, (saved as T[])[0]!.shape) }),
  });
  reg({
    kernelName: 'Transpose',
    gradFunc: (dy, _saved, attrs) => {
      const perm = (attrs as { perm: number[] }).perm;
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => {
        inv[p] = i;
      });
      return { x: () => tf.transpose(dy as T, inv) };
    },
  });
  reg({ kernelName: 'Neg', gradFunc: (dy) => ({ x: () => tf.neg(dy as T) }) });
  reg({ kernelName: 'Cast', gradFunc: (dy) => ({ x: () => tf.clone(dy as T) }) });
  reg({ kernelName: 'Identity', gradFunc: (dy) => ({ x: () => tf.clone(dy as T) }) });
}
