// Row blocks of a 2-D tensor through the host. tfjs-wasm 4.22's Slice reads its whole input back
// (backend.readSync copies every element) before copying out the slice, so a loop that cuts B
// blocks from one tensor costs O(B²): at 32 windows × 512 tokens the executor's row chunks and the
// attention's per-sequence slices were ~12 % of a perplexity run and grew with the batch. Reading
// the tensor once and uploading each block is O(size) in all. Exact copies: no arithmetic.
import { tf } from '../../tensor/backend';
import type { Tensor2D } from '../types';

export class HostRows {
  readonly rows: number;
  readonly cols: number;
  private readonly data: Float32Array;

  constructor(t: Tensor2D) {
    [this.rows, this.cols] = t.shape;
    this.data = t.dataSync() as Float32Array;
  }

  /** Rows [r0, r0 + n) as a new [n, cols] tensor. */
  block(r0: number, n: number): Tensor2D {
    if (r0 < 0 || n < 0 || r0 + n > this.rows)
      throw new RangeError(`rows ${r0}..${r0 + n - 1} are outside 0..${this.rows - 1}`);
    return tf.tensor2d(this.data.subarray(r0 * this.cols, (r0 + n) * this.cols), [n, this.cols]);
  }
}
