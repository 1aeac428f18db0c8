// Calibration statistics for low-rank decomposition of one linear layer, fed batch by batch:
// the input Gram G = Σ x xᵀ (SVD-LLM whitening, METHODS §1.2 step 1: f32 GEMM per batch on the tfjs
// backend, accumulated across batches in f64) and the ASVD channel statistic m_c (§1.3: per batch the
// mean |x_c| over that batch's tokens, summed over batches — not averaged).
import { EngineError } from '../errors';
import { type Matrix, type Matrix64, toTensor } from '../linalg/matrix';
import { tf } from '../tensor/backend';

const FILE = 'engine/calibration/gram';

export interface InputStatistics {
  dim: number;
  /** tokens seen (rows of all batches) */
  tokens: number;
  /** non-empty batches seen */
  batches: number;
  /** Σ x xᵀ, dim×dim, f64 */
  gram: Matrix64;
  /** Σ_batches mean_tokens |x_c| */
  absMeanSum: Float64Array;
}

export class InputStatisticsAccumulator {
  readonly dim: number;
  private tokens = 0;
  private batches = 0;
  private readonly gram: Float64Array;
  private readonly absMeanSum: Float64Array;

  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new EngineError(`must be a positive integer, got ${dim}`, { file: FILE, field: 'dim' });
    }
    this.dim = dim;
    this.gram = new Float64Array(dim * dim);
    this.absMeanSum = new Float64Array(dim);
  }

  /** x: [tokens, dim]. An empty batch is ignored (its mean |x| would be NaN). The caller keeps x. */
  add(x: tf.Tensor2D | Matrix): void {
    const shape = x instanceof tf.Tensor ? x.shape : [x.rows, x.cols];
    if (shape.length !== 2 || shape[1] !== this.dim) {
      throw new EngineError(`batch shape [${shape.join(', ')}] does not match [tokens, ${this.dim}]`, {
        file: FILE,
        field: 'x',
      });
    }
    const t = shape[0]!;
    if (t === 0) return;
    const [g, a] = tf.tidy(() => {
      const xt = x instanceof tf.Tensor ? tf.cast(x, 'float32') : toTensor(x);
      return [tf.matMul(tf.transpose(xt), xt), tf.mean(tf.abs(xt), 0)];
    });
    const gd = g.dataSync();
    const ad = a.dataSync();
    g.dispose();
    a.dispose();
    for (let i = 0; i < gd.length; i++) this.gram[i] += gd[i]!;
    for (let i = 0; i < ad.length; i++) this.absMeanSum[i] += ad[i]!;
    this.tokens += t;
    this.batches += 1;
  }

  result(): InputStatistics {
    return {
      dim: this.dim,
      tokens: this.tokens,
      batches: this.batches,
      gram: { rows: this.dim, cols: this.dim, data: this.gram.slice() },
      absMeanSum: this.absMeanSum.slice(),
    };
  }
}
