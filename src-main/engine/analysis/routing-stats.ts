// Router statistics of one layer over the calibration tokens (the routing-frequency, coverage and
// entropy analyses): per expert the top-k selections, and per token the entropy of the full routing
// distribution (the router's softmax probabilities; for Phi's sparsemixer the plain softmax, as the
// executor reports it). Host arithmetic in f64 on the [n, N] probabilities of each token chunk.
import type { EntropyRecord, RoutingRecord } from '../../contract/analyses';
import { EngineError } from '../errors';
import type { LayerObserver, RouterEvent } from '../model/types';

export interface RoutingStats {
  layer: number;
  experts: number;
  tokens: number;
  topK: number;
  /** top-k selections per expert */
  counts: Float64Array;
  /** Σ over tokens of the routing probabilities per expert */
  probSums: Float64Array;
  /** Σ over tokens of −Σ_e p_e log p_e */
  entropySum: number;
}

/** −Σ p log p (nats) of a distribution given by non-negative weights, normalised by their sum. */
export function entropyOf(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]!;
  if (!(s > 0)) return 0;
  let h = 0;
  for (let i = 0; i < w.length; i++) {
    const p = w[i]! / s;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

export class RoutingCollector {
  private tokens = 0;
  private topK = 0;
  private entropySum = 0;
  private readonly counts: Float64Array;
  private readonly probSums: Float64Array;

  constructor(
    readonly layer: number,
    readonly experts: number,
  ) {
    this.counts = new Float64Array(experts);
    this.probSums = new Float64Array(experts);
  }

  add(e: Pick<RouterEvent, 'layer' | 'probs' | 'experts' | 'topK'>): void {
    if (e.layer !== this.layer) return;
    const [n, N] = e.probs.shape;
    if (N !== this.experts)
      throw new EngineError(`router gives ${N} probabilities, the layer has ${this.experts} experts`, {
        field: `layer ${this.layer} router`,
      });
    const p = e.probs.dataSync();
    for (let t = 0; t < n; t++) {
      let h = 0;
      for (let j = 0; j < N; j++) {
        const v = p[t * N + j]!;
        if (!Number.isFinite(v))
          throw new EngineError(`routing probability is ${v} (token ${this.tokens + t}, expert ${j})`, {
            field: `layer ${this.layer} router`,
          });
        this.probSums[j] += v;
        if (v > 0) h -= v * Math.log(v);
      }
      this.entropySum += h;
    }
    for (const x of e.experts) this.counts[x]++;
    this.tokens += n;
    this.topK = e.topK;
  }

  observer(): LayerObserver {
    return { onRouter: (e) => this.add(e) };
  }

  result(): RoutingStats {
    return {
      layer: this.layer,
      experts: this.experts,
      tokens: this.tokens,
      topK: this.topK,
      counts: this.counts.slice(),
      probSums: this.probSums.slice(),
      entropySum: this.entropySum,
    };
  }
}

export function routingRecord(s: RoutingStats, minTokens: number): RoutingRecord {
  const covered = [...s.counts].filter((c) => c >= minTokens).length;
  return {
    analysis: 'routing',
    layer: s.layer,
    tokens: s.tokens,
    topK: s.topK,
    counts: [...s.counts],
    frequency: [...s.counts].map((c) => (s.tokens > 0 ? c / s.tokens : 0)),
    minTokens,
    covered,
    coverage: s.experts > 0 ? covered / s.experts : 0,
  };
}

export function entropyRecord(s: RoutingStats): EntropyRecord {
  return {
    analysis: 'entropy',
    layer: s.layer,
    experts: s.experts,
    tokens: s.tokens,
    meanTokenEntropy: s.tokens > 0 ? s.entropySum / s.tokens : 0,
    averageLoadEntropy: entropyOf(s.probSums),
    selectionEntropy: entropyOf(s.counts),
    maxEntropy: Math.log(s.experts),
  };
}
