// One expert's calibration statistics rebuilt from a layer capture (moe-input-capture.ts), event by
// event: per captured chunk, the expert's routed rows X_e (an exact copy of what the executor's
// onExpert event carried) give the input Gram Σ x xᵀ and, through the expert's own gate/up, the
// intermediate H_e = silu(X_e W_gateᵀ) ⊙ (X_e W_upᵀ) and Σ h hᵀ. Each product is the same f32 tfjs
// operation on the same data as the whole-layer collector (gram.ts on the executor's events), so
// the statistics are bit-identical to it; a Gram larger than GRAM_BLOCK_BYTES is built in column
// blocks so its f32 product and read-back stay bounded. Only what is asked for is built, and only
// for one expert at a time: the caller drops it when the expert is done.
import type { Matrix64 } from '../linalg/matrix';
import type { Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import type { MoeInputCapture } from './moe-input-capture';
import { gramBlockCols } from './streaming-limits';

export interface StatisticsNeeds {
  /** Σ x xᵀ (SVD-LLM whitening) */
  gram: boolean;
  /** Σ_events mean |x| (ASVD) */
  absMean: boolean;
}

/** gram.ts's InputStatistics with only the asked-for parts. */
export interface RoutedStatistics {
  dim: number;
  /** routed rows seen */
  tokens: number;
  /** non-empty (chunk, expert) events */
  batches: number;
  gram?: Matrix64;
  absMeanSum?: Float64Array;
}

/** Calls `use(X_e [m, h] row-major, m)` for each captured chunk where expert e has routed rows. */
export function forEachRoutedEvent(
  capture: MoeInputCapture,
  expert: number,
  use: (x: Float32Array, m: number) => void,
): { tokens: number; batches: number } {
  const h = capture.hidden;
  let tokens = 0;
  let batches = 0;
  for (let i = 0; i < capture.chunks.length; i++) {
    const rows = capture.routedRows(i, expert);
    if (rows.length === 0) continue;
    tokens += rows.length;
    batches += 1;
    if (!capture.keepsInputs) continue;
    const x = capture.rows(i);
    const xe = new Float32Array(rows.length * h);
    rows.forEach((t, j) => {
      xe.set(x.subarray(t * h, (t + 1) * h), j * h);
    });
    use(xe, rows.length);
  }
  return { tokens, batches };
}

/** acc (d×d, f64) += Aᵀ·A for A [m, d]: gram.ts's product, in column blocks of `cols` when it is large. */
export function addGram(acc: Float64Array, A: Tensor2D, cols = gramBlockCols(A.shape[1])): void {
  const [m, d] = A.shape;
  if (cols >= d) {
    const g = tf.tidy(() => tf.matMul(tf.transpose(A), A));
    const p = g.dataSync() as Float32Array;
    g.dispose();
    for (let i = 0; i < p.length; i++) acc[i] += p[i]!;
    return;
  }
  const At = tf.tidy(() => tf.transpose(A).clone()) as Tensor2D;
  try {
    for (let j0 = 0; j0 < d; j0 += cols) {
      const b = Math.min(cols, d - j0);
      const part = tf.tidy(() => tf.matMul(At, tf.slice(A, [0, j0], [m, b])));
      const p = part.dataSync() as Float32Array;
      part.dispose();
      for (let i = 0; i < d; i++) {
        const row = i * d + j0;
        const src = i * b;
        for (let j = 0; j < b; j++) acc[row + j] += p[src + j]!;
      }
    }
  } finally {
    At.dispose();
  }
}

/** acc (d) += mean over rows of |A| (gram.ts's per-batch statistic). */
function addAbsMean(acc: Float64Array, A: Tensor2D): void {
  const s = tf.tidy(() => tf.mean(tf.abs(A), 0));
  const d = s.dataSync();
  s.dispose();
  for (let i = 0; i < d.length; i++) acc[i] += d[i]!;
}

function accumulate(A: Tensor2D, gram: Float64Array | null, abs: Float64Array | null): void {
  if (gram) addGram(gram, A);
  if (abs) addAbsMean(abs, A);
}

function result(
  dim: number,
  counted: { tokens: number; batches: number },
  gram: Float64Array | null,
  abs: Float64Array | null,
): RoutedStatistics {
  const out: RoutedStatistics = { dim, tokens: counted.tokens, batches: counted.batches };
  if (gram) out.gram = { rows: dim, cols: dim, data: gram };
  if (abs) out.absMeanSum = abs;
  return out;
}

/** Statistics of expert e's inputs (feed gate and up). */
export function routedInputStatistics(
  capture: MoeInputCapture,
  expert: number,
  needs: StatisticsNeeds,
): RoutedStatistics {
  const h = capture.hidden;
  const gram = needs.gram ? new Float64Array(h * h) : null;
  const abs = needs.absMean ? new Float64Array(h) : null;
  const counted = forEachRoutedEvent(capture, expert, (x, m) => {
    if (!gram && !abs) return;
    const X = tf.tensor2d(x, [m, h]);
    try {
      accumulate(X, gram, abs);
    } finally {
      X.dispose();
    }
  });
  return result(h, counted, gram, abs);
}

/**
 * Statistics of expert e's intermediate silu(x·W_gateᵀ)⊙(x·W_upᵀ) (feeds down); gate/up are the
 * HF-layout [I, h] matrices. Computed as the executor does (x times the transposed weight), so it
 * is the same f32 intermediate the whole-layer collector saw.
 */
export function routedIntermediateStatistics(
  capture: MoeInputCapture,
  expert: number,
  weights: { gate: Tensor2D; up: Tensor2D },
  needs: StatisticsNeeds,
): RoutedStatistics {
  const h = capture.hidden;
  const I = weights.gate.shape[0];
  const gram = needs.gram ? new Float64Array(I * I) : null;
  const abs = needs.absMean ? new Float64Array(I) : null;
  if (!gram && !abs)
    return result(
      I,
      forEachRoutedEvent(capture, expert, () => {}),
      null,
      null,
    );
  const gateT = tf.tidy(() => tf.transpose(weights.gate).clone()) as Tensor2D;
  const upT = tf.tidy(() => tf.transpose(weights.up).clone()) as Tensor2D;
  try {
    const counted = forEachRoutedEvent(capture, expert, (x, m) => {
      const H = tf.tidy(() => {
        const X = tf.tensor2d(x, [m, h]);
        const g = tf.matMul(X, gateT);
        const u = tf.matMul(X, upT);
        return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
      }) as Tensor2D;
      try {
        accumulate(H, gram, abs);
      } finally {
        H.dispose();
      }
    });
    return result(I, counted, gram, abs);
  } finally {
    tf.dispose([gateT, upT]);
  }
}
