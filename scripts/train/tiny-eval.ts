// Held-out evaluation of the tiny models: token perplexity over non-overlapping windows, the unigram
// baseline (same tokenizer, counts from the training stream), and routed-expert utilisation.
import { tf } from '../../src-main/engine/tensor/backend';
import { tokenNll } from './fused-ops';
import { isMoeLayer, type TinyArch } from './tiny-arch';
import { forward } from './tiny-moe-model';

/** Window w predicts stream[w·L+1 .. w·L+L] from stream[w·L .. w·L+L−1]: every token after the first once. */
export function evalWindows(stream: Int32Array, L: number, maxWindows = Number.POSITIVE_INFINITY): number {
  return Math.min(Math.floor((stream.length - 1) / L), maxWindows);
}

/** Labels scored by `perplexity` (for a baseline over exactly the same tokens). */
export function scoredLabels(stream: Int32Array, L: number, windows: number): Int32Array {
  return stream.slice(1, windows * L + 1);
}

export interface PerplexityResult {
  tokens: number;
  meanNll: number;
  ppl: number;
  /** per MoE layer index: tokens routed to each expert (top-k selections) */
  routed: Map<number, Float64Array>;
}

export function perplexity(
  a: TinyArch,
  params: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
  stream: Int32Array,
  L: number,
  opts: { maxWindows?: number; batch?: number } = {},
): PerplexityResult {
  const W = evalWindows(stream, L, opts.maxWindows);
  const B = opts.batch ?? 4;
  const tensors = new Map<string, tf.Tensor>();
  for (const [n, s] of shapes) tensors.set(n, tf.tensor(params.get(n)!, s));
  const routed = new Map<number, Float64Array>();
  for (let l = 0; l < a.layers; l++) if (isMoeLayer(a, l)) routed.set(l, new Float64Array(a.experts));
  let sum = 0;
  let count = 0;
  try {
    for (let w0 = 0; w0 < W; w0 += B) {
      const nb = Math.min(B, W - w0);
      const ids = new Int32Array(nb * L);
      const labels = new Int32Array(nb * L);
      for (let b = 0; b < nb; b++) {
        const s = (w0 + b) * L;
        ids.set(stream.subarray(s, s + L), b * L);
        labels.set(stream.subarray(s + 1, s + L + 1), b * L);
      }
      const nll = tf.tidy(() => {
        const out = forward(a, (n) => tensors.get(n)!, ids, nb, L);
        for (const [l, c] of out.routed) {
          const acc = routed.get(l)!;
          for (let e = 0; e < c.length; e++) acc[e]! += c[e]!;
        }
        return tokenNll(out.logits, labels);
      });
      for (const v of nll) sum += v;
      count += nll.length;
    }
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  const meanNll = sum / count;
  return { tokens: count, meanNll, ppl: Math.exp(meanNll), routed };
}

/** Unigram model from training-token frequencies (add-one smoothing so unseen ids have mass). */
export function unigramPerplexity(
  train: Int32Array,
  vocab: number,
  labels: Int32Array,
): { ppl: number; meanNll: number } {
  const counts = new Float64Array(vocab).fill(1);
  for (const t of train) counts[t]! += 1;
  const total = train.length + vocab;
  let nll = 0;
  for (const t of labels) nll -= Math.log(counts[t]! / total);
  const meanNll = nll / labels.length;
  return { ppl: Math.exp(meanNll), meanNll };
}

export interface ExpertUtilisation {
  layer: number;
  /** routed-token share per expert (sums to 1) */
  shares: number[];
  /** min over experts of share / (1/E) */
  minOfUniform: number;
  /** experts below `threshold` of their uniform share */
  dead: number[];
}

export function expertUtilisation(routed: Map<number, Float64Array>, threshold = 0.25): ExpertUtilisation[] {
  const out: ExpertUtilisation[] = [];
  for (const [layer, c] of [...routed].sort((x, y) => x[0] - y[0])) {
    const total = c.reduce((s, v) => s + v, 0);
    const E = c.length;
    const shares = Array.from(c, (v) => (total > 0 ? v / total : 0));
    const ofUniform = shares.map((s) => s * E);
    out.push({
      layer,
      shares,
      minOfUniform: Math.min(...ofUniform),
      dead: ofUniform.flatMap((r, e) => (r < threshold ? [e] : [])),
    });
  }
  return out;
}
