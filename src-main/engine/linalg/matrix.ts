// Dense row-major matrices. Float64Array for the small exact kernels, Float32Array for weights and
// anything that goes to tfjs (which is f32 only).
import { EngineError } from '../errors';
import { tf } from '../tensor/backend';

export type MatrixData = Float32Array | Float64Array;

export interface Matrix<D extends MatrixData = MatrixData> {
  rows: number;
  cols: number;
  data: D;
}

export type Matrix64 = Matrix<Float64Array>;
export type Matrix32 = Matrix<Float32Array>;

const FILE = 'engine/linalg/matrix';

export function matrix<D extends MatrixData>(rows: number, cols: number, data: D): Matrix<D> {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new EngineError(`shape must be non-negative integers, got ${rows}x${cols}`, {
      file: FILE,
      field: 'shape',
    });
  }
  if (data.length !== rows * cols) {
    throw new EngineError(`data length ${data.length} does not match shape ${rows}x${cols}`, {
      file: FILE,
      field: 'data',
    });
  }
  return { rows, cols, data };
}

export function zeros64(rows: number, cols: number): Matrix64 {
  return matrix(rows, cols, new Float64Array(rows * cols));
}

export function identity64(n: number): Matrix64 {
  const m = zeros64(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

export function fromRows(rows: readonly (readonly number[])[]): Matrix64 {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const m = zeros64(r, c);
  for (let i = 0; i < r; i++) {
    if (rows[i]!.length !== c)
      throw new EngineError(`row ${i} has ${rows[i]!.length} entries, expected ${c}`, {
        file: FILE,
        field: 'rows',
      });
    m.data.set(rows[i]!, i * c);
  }
  return m;
}

export function to64(a: Matrix): Matrix64 {
  return a.data instanceof Float64Array ? (a as Matrix64) : matrix(a.rows, a.cols, Float64Array.from(a.data));
}

export function clone<D extends MatrixData>(a: Matrix<D>): Matrix<D> {
  return { rows: a.rows, cols: a.cols, data: a.data.slice() as D };
}

/** Blocked transpose (keeps both reads and writes within cache lines). */
export function transpose<D extends MatrixData>(a: Matrix<D>): Matrix<D> {
  const { rows, cols } = a;
  const src = a.data;
  const out = new (src.constructor as new (n: number) => D)(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) {
        const row = i * cols;
        for (let j = j0; j < j1; j++) out[j * rows + i] = src[row + j]!;
      }
    }
  }
  return { rows: cols, cols: rows, data: out };
}

export function frobeniusNorm(a: Matrix): number {
  let s = 0;
  const d = a.data;
  for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  return Math.sqrt(s);
}

export function subtract(a: Matrix, b: Matrix): Matrix64 {
  assertSameShape(a, b, 'b');
  const out = zeros64(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i]! - b.data[i]!;
  return out;
}

export function assertSameShape(a: Matrix, b: Matrix, field: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new EngineError(`shape ${b.rows}x${b.cols} differs from ${a.rows}x${a.cols}`, {
      file: FILE,
      field,
    });
  }
}

export function assertSquare(a: Matrix, file: string, field: string): void {
  if (a.rows !== a.cols)
    throw new EngineError(`expected a square matrix, got ${a.rows}x${a.cols}`, { file, field });
}

export function assertFinite(a: Matrix, file: string, field: string): void {
  const d = a.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new EngineError(`non-finite value ${d[i]} at (${Math.floor(i / a.cols)}, ${i % a.cols})`, {
        file,
        field,
      });
    }
  }
}

export function toTensor(a: Matrix): tf.Tensor2D {
  return tf.tensor2d(
    a.data instanceof Float32Array ? a.data : Float32Array.from(a.data),
    [a.rows, a.cols],
    'float32',
  );
}

export function fromTensor(t: tf.Tensor): Matrix32 {
  if (t.rank !== 2)
    throw new EngineError(`expected a rank-2 tensor, got rank ${t.rank}`, { file: FILE, field: 'tensor' });
  const data = t.dataSync();
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  return matrix(t.shape[0]!, t.shape[1]!, f32);
}
