// Row / column selection through the host: tfjs-wasm's gather kernel is several times slower than
// reading the matrix once and copying the rows (measured ~5× on [128 of 512, 1024] rows), and the
// per-expert selections of one chunk all read the same matrix. Exact copies: no arithmetic.
import { tf } from '../../tensor/backend';
import type { Tensor2D } from '../types';

/** Rows `rows` of a row-major [*, cols] host matrix as a [rows.length, cols] tensor. */
export function rowsOf(src: Float32Array, cols: number, rows: ArrayLike<number>): Tensor2D {
  const out = new Float32Array(rows.length * cols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out.set(src.subarray(r * cols, (r + 1) * cols), i * cols);
  }
  return tf.tensor2d(out, [rows.length, cols]);
}

/** Columns `keep` of a row-major [rows, cols] host matrix as a [rows, keep.length] tensor. */
export function colsOf(src: Float32Array, rows: number, cols: number, keep: Int32Array): Tensor2D {
  const k = keep.length;
  const out = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < k; j++) out[i * k + j] = src[o + keep[j]!]!;
  }
  return tf.tensor2d(out, [rows, k]);
}
