// Gradient functions for the kernels a decoder layer's forward records on the tape (the block
// functions of model/blocks/* as they are: matMul, slices and concats of attention and RoPE, the
// norms, softmax, gathers and scatters of the MoE re-expression). tfjs-core's CJS build — what
// Node resolves — ships without `register_all_gradients` (same situation as the trainer's
// scripts/train/gradients.ts, whose approach this follows; the engine cannot import dev tooling).
// matMul gradients multiply by explicitly transposed operands: `matMul(a, b, false, true)` is
// 10-40x slower on wasm. A kernel whose gradient is already registered (e.g. by the trainer) is left
// alone, so both registrations can live in one process.
import { tf } from '../tensor/backend';

type T = tf.Tensor;

/** Sum `dy` down to `shape` (undo broadcasting). */
function unbroadcast(dy: T, shape: number[]): T {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** swap the last two axes */
function t2(x: T): T {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return tf.transpose(x, perm);
}

function axesOf(axis: number | number[] | null | undefined, rank: number): number[] {
  const all = Array.from({ length: rank }, (_, i) => i);
  const a = axis === null || axis === undefined ? all : Array.isArray(axis) ? axis : [axis];
  return a.map((x) => (x < 0 ? x + rank : x));
}

let registered = false;

/** The kernels this module differentiates (exported for the registration test). */
export const ENGINE_GRADIENT_KERNELS = [
  'BatchMatMul',
  'Add',
  'AddN',
  'Sub',
  'Multiply',
  'RealDiv',
  'Sum',
  'Mean',
  'Reshape',
  'Transpose',
  'Neg',
  'Cast',
  'Identity',
  'Sigmoid',
  'Square',
  'Sqrt',
  'Rsqrt',
  'Exp',
  'Log',
  'Softmax',
  'Slice',
  'Concat',
  'GatherV2',
  'ScatterNd',
  'ClipByValue',
] as const;

export function registerEngineGradients(): void {
  if (registered) return;
  registered = true;
  const reg = (cfg: tf.GradConfig): void => {
    if (!tf.getGradient(cfg.kernelName)) tf.registerGradient(cfg);
  };
  reg({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as T[];
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const g = dy as T;
      const ta = transposeA ? t2(a!) : a!;
      const tb = transposeB ? t2(b!) : b!;
      // y = A'·B' with A' = op(a), B' = op(b): dA' = dy·B'ᵀ, dB' = A'ᵀ·dy
      return {
        a: () => {
          const dA = tf.matMul(g, t2(tb));
          return unbroadcast(transposeA ? t2(dA) : dA, a!.shape);
        },
        b: () => {
          const dB = tf.matMul(t2(ta), g);
          return unbroadcast(transposeB ? t2(dB) : dB, b!.shape);
        },
      };
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
  reg({
    kernelName: 'AddN',
    saveAllInputs: true,
    gradFunc: (dy, saved) => Object.fromEntries((saved as T[]).map((_, i) => [i, () => tf.clone(dy as T)])),
  });
  const reduce = (kernelName: string, scaleByCount: boolean): void =>
    reg({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved as T[];
        const axes = axesOf((attrs as { axis: number | number[] | null }).axis, x!.rank);
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
  reg({
    kernelName: 'Sigmoid',
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved as T[];
      return { x: () => tf.mul(dy as T, tf.mul(y!, tf.sub(1, y!))) };
    },
  });
  reg({
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, tf.mul((saved as T[])[0]!, 2)) }),
  });
  reg({
    kernelName: 'Sqrt',
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as T, tf.mul((saved as T[])[0]!, 2)) }),
  });
  reg({
    // y = x^(-1/2): dy/dx = -y³/2
    kernelName: 'Rsqrt',
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved as T[];
      return { x: () => tf.mul(dy as T, tf.mul(tf.mul(tf.square(y!), y!), -0.5)) };
    },
  });
  reg({
    kernelName: 'Exp',
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, (saved as T[])[0]!) }),
  });
  reg({
    kernelName: 'Log',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.div(dy as T, (saved as T[])[0]!) }),
  });
  reg({
    // dx = y ⊙ (dy − Σ_dim dy ⊙ y)
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as T[];
      const dim = (attrs as { dim: number }).dim;
      return { logits: () => tf.mul(y!, tf.sub(dy as T, tf.sum(tf.mul(dy as T, y!), dim, true))) };
    },
  });
  reg({
    kernelName: 'Slice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as T[];
      const { begin, size } = attrs as { begin: number | number[]; size: number | number[] };
      const b = Array.isArray(begin) ? begin : [begin];
      const s = Array.isArray(size) ? size : [size];
      const pads = x!.shape.map((d, i): [number, number] => {
        const bi = b[i] ?? 0;
        const si = s[i] === undefined || s[i] === -1 ? d - bi : s[i]!;
        return [bi, d - bi - si];
      });
      return { x: () => tf.pad(dy as T, pads) };
    },
  });
  reg({
    kernelName: 'Concat',
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const xs = saved as T[];
      const rank = xs[0]!.rank;
      const axis = axesOf((attrs as { axis: number }).axis, rank)[0]!;
      const parts = tf.split(
        dy as T,
        xs.map((x) => x.shape[axis]!),
        axis,
      );
      return Object.fromEntries(parts.map((p, i) => [i, () => p]));
    },
  });
  reg({
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved as T[];
      const { axis, batchDims } = attrs as { axis: number; batchDims: number };
      if ((axis !== 0 && axis !== -x!.rank) || (batchDims ?? 0) !== 0 || indices!.rank !== 1)
        throw new Error('engine gradients: gather is differentiated along axis 0 with 1-D indices only');
      // scatter-add (the wasm backend has ScatterNd, not UnsortedSegmentSum); duplicates sum
      return { x: () => tf.scatterND(tf.reshape(indices!, [indices!.shape[0]!, 1]), dy as T, x!.shape) };
    },
  });
  reg({
    kernelName: 'ScatterNd',
    inputsToSave: ['indices'],
    gradFunc: (dy, saved) => {
      const [indices] = saved as T[];
      return { updates: () => tf.gatherND(dy as T, indices!) };
    },
  });
  reg({
    kernelName: 'ClipByValue',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as T[];
      const { clipValueMin: lo, clipValueMax: hi } = attrs as { clipValueMin: number; clipValueMax: number };
      return {
        x: () =>
          tf.mul(dy as T, tf.cast(tf.logicalAnd(tf.greaterEqual(x!, lo), tf.lessEqual(x!, hi)), 'float32')),
      };
    },
  });
}
