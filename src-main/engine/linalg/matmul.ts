// Matrix products. `matmul64` is the exact f64 kernel for small problems; `matmulTf` runs the product
// on the active tfjs backend in f32 (wasm: ~20+ GFLOP/s, but only without matMul's transpose flags,
// which are 10-40x slower there — so every transpose here is explicit).
import { EngineError } from '../errors';
import { tf } from '../tensor/backend';
import { fromTensor, type Matrix, type Matrix32, type Matrix64, toTensor, zeros64 } from './matrix';

const FILE = 'engine/linalg/matmul';

function checkInner(a: Matrix, b: Matrix): void {
  if (a.cols !== b.rows) {
    throw new EngineError(`inner dimensions differ: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`, {
      file: FILE,
      field: 'b',
    });
  }
}

/** C = A B in f64 (i-k-j order: the inner loop streams rows of B and C). */
export function matmul64(a: Matrix, b: Matrix): Matrix64 {
  checkInner(a, b);
  const { rows: m, cols: k } = a;
  const n = b.cols;
  const c = zeros64(m, n);
  const A = a.data;
  const B = b.data;
  const C = c.data;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p]!;
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) C[ci + j] += aip * B[bp + j]!;
    }
  }
  return c;
}

/** C = A B on the tfjs backend (f32). */
export function matmulTf(a: Matrix, b: Matrix): Matrix32 {
  checkInner(a, b);
  const out = tf.tidy(() => tf.matMul(toTensor(a), toTensor(b)));
  const m = fromTensor(out);
  out.dispose();
  return m;
}
