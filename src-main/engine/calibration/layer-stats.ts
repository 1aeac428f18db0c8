// Per-layer calibration statistics gathered from the executor's observer hooks (METHODS §1.2, §1.3,
// §5.1, §10.3). Only tokens actually routed to an expert (its top-k) reach that expert's statistics:
// the executor calls onExpert with exactly those rows. Expert inputs feed gate/up, the intermediate
// act(gate·x)⊙(up·x) feeds down.

import type { LayerObserver } from '../model/types';
import { tf } from '../tensor/backend';
import { type InputStatistics, InputStatisticsAccumulator } from './gram';

export interface StatsNeeds {
  /** per-expert input and intermediate Gram + ASVD abs-mean */
  inputs?: boolean;
  /** per-expert outlier fraction a_i (§5.1); needs `outlierMean` from a first pass */
  outliers?: { tau: number; mean: Float64Array };
  /** per-expert mean |x| over all routed input activations (first pass of a_i) */
  absMean?: boolean;
}

export interface ExpertStats {
  /** routed tokens (top-k selections) seen by this expert */
  tokens: number;
  input?: InputStatistics;
  intermediate?: InputStatistics;
  /** Σ |x| over routed input activations and their count (entries, not tokens) */
  absSum: number;
  absCount: number;
  /** entries with |x| > τ·mean(|x|) */
  outliers: number;
}

export interface LayerStats {
  layer: number;
  /** tokens that went through the router */
  tokens: number;
  topK: number;
  experts: ExpertStats[];
}

/** f_i = (tokens whose top-k holds i) / tokens; Σ f_i = k. */
export function routingFrequency(s: LayerStats): Float64Array {
  return Float64Array.from(s.experts, (e) => (s.tokens > 0 ? e.tokens / s.tokens : 0));
}

/** a_i = share of expert i's routed input activations above τ·mean|x| (0 for an idle expert). */
export function outlierFraction(s: LayerStats): Float64Array {
  return Float64Array.from(s.experts, (e) => (e.absCount > 0 ? e.outliers / e.absCount : 0));
}

export class LayerStatsCollector {
  readonly layer: number;
  private tokens = 0;
  private topK = 0;
  private readonly counts: Float64Array;
  private readonly absSum: Float64Array;
  private readonly absCount: Float64Array;
  private readonly outliers: Float64Array;
  private readonly inputs: InputStatisticsAccumulator[] | null;
  private readonly inter: InputStatisticsAccumulator[] | null;

  constructor(
    layer: number,
    experts: number,
    dims: { hidden: number; intermediate: number },
    private readonly needs: StatsNeeds,
  ) {
    this.layer = layer;
    this.counts = new Float64Array(experts);
    this.absSum = new Float64Array(experts);
    this.absCount = new Float64Array(experts);
    this.outliers = new Float64Array(experts);
    this.inputs = needs.inputs
      ? Array.from({ length: experts }, () => new InputStatisticsAccumulator(dims.hidden))
      : null;
    this.inter = needs.inputs
      ? Array.from({ length: experts }, () => new InputStatisticsAccumulator(dims.intermediate))
      : null;
  }

  observer(): LayerObserver {
    const needsExpert = this.needs.inputs || this.needs.absMean || this.needs.outliers;
    const obs: LayerObserver = {
      onRouter: (e) => {
        if (e.layer !== this.layer) return;
        this.tokens += e.logits.shape[0];
        this.topK = e.topK;
        for (const x of e.experts) this.counts[x]++;
      },
    };
    if (needsExpert) {
      obs.onExpert = (e) => {
        if (e.layer !== this.layer) return;
        if (this.inputs && this.inter) {
          this.inputs[e.expert]!.add(e.input);
          this.inter[e.expert]!.add(e.intermediate);
        }
        if (this.needs.absMean || this.needs.outliers) {
          const tau = this.needs.outliers
            ? this.needs.outliers.tau * this.needs.outliers.mean[e.expert]!
            : Infinity;
          const [sum, over] = tf.tidy(() => {
            const a = tf.abs(e.input);
            return [tf.sum(a), tf.sum(tf.cast(tf.greater(a, tau), 'float32'))];
          });
          this.absSum[e.expert] += sum.dataSync()[0]!;
          this.outliers[e.expert] += over.dataSync()[0]!;
          this.absCount[e.expert] += e.input.size;
          tf.dispose([sum, over]);
        }
      };
    }
    return obs;
  }

  result(): LayerStats {
    return {
      layer: this.layer,
      tokens: this.tokens,
      topK: this.topK,
      experts: Array.from(this.counts, (tokens, i) => {
        const s: ExpertStats = {
          tokens,
          absSum: this.absSum[i]!,
          absCount: this.absCount[i]!,
          outliers: this.outliers[i]!,
        };
        if (this.inputs) s.input = this.inputs[i]!.result();
        if (this.inter) s.intermediate = this.inter[i]!.result();
        return s;
      }),
    };
  }
}

/** Per-expert mean |x| (first pass of the outlier fraction). */
export function meanAbs(s: LayerStats): Float64Array {
  return Float64Array.from(s.experts, (e) => (e.absCount > 0 ? e.absSum / e.absCount : 0));
}

/**
 * Layer-level Gram (MoE-SVD shared whitening, §5.5 recommendation): the frequency-weighted sum of
 * the experts' Grams. With f_i = n_i/T and G_i = Σ over i's n_i routed tokens, Σ_i f_i·(G_i/n_i)
 * = (1/T)·Σ_i G_i, so (up to a scale the SVD ignores) it is the plain sum over routed (token, expert) pairs.
 */
export function pooledStatistics(stats: readonly (InputStatistics | undefined)[]): InputStatistics {
  const first = stats.find((s) => s !== undefined);
  if (!first) throw new Error('pooledStatistics: no statistics');
  const dim = first.dim;
  const gram = new Float64Array(dim * dim);
  const absMeanSum = new Float64Array(dim);
  let tokens = 0;
  let batches = 0;
  for (const s of stats) {
    if (!s) continue;
    for (let i = 0; i < gram.length; i++) gram[i] += s.gram.data[i]!;
    for (let i = 0; i < dim; i++) absMeanSum[i] += s.absMeanSum[i]!;
    tokens += s.tokens;
    batches += s.batches;
  }
  return { dim, tokens, batches, gram: { rows: dim, cols: dim, data: gram }, absMeanSum };
}
