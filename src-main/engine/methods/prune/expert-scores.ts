// Per-expert importance accumulators of one MoE layer, fed by the executor's hooks over a sweep of
// the calibration batches (METHODS §2.5, §4.3, §10.3). Sums in f64 on the host; per-row norms on the
// backend (f32). Experts no token reaches score 0.
//
// * activation_frequency: top-k selection counts / all selections of the layer (Σ_e = 1; top-k as in
//   the 2025 reference, not the 2026 top-1).
// * sum_routing_weights: Σ over the tokens that have e in their top-k of e's OWN softmax probability
//   (RouterEvent.probs). The 2025 code adds the whole top-k mass of the token instead (§2.5 PITFALL,
//   almost certainly unintended); we do not reproduce that.
// * input_l2_avg / output_l2_avg: per forward call of the expert (one ExpertEvent = one token chunk
//   of one batch) the mean over its routed tokens of ‖x‖₂ resp. ‖E(x)‖₂ (before the routing weight),
//   averaged over the calls with ≥ 1 token (§2.5 decision: empty calls are not counted; non-finite
//   per-call values are skipped).
// * reap (REAP, CerebrasResearch/reap observer.py): mean over every token routed to e of
//   g_e(x)·‖E(x)‖₂ with g_e the routing weight actually applied (ExpertEvent.weights: renormalised
//   over the top-k where the model renormalises — REAP's `renormalize_router_weights` — the plain
//   softmax probability where it does not). REAP's per-batch means weighted by the batch's token
//   counts are exactly this mean over all routed tokens.
// * softmax_mass / topk_mass (Unified Expert Drop): Σ_tokens p_e, divided by the number of
//   calibration sequences — the reference's running mean s ← s·n/(n+b) + Σp/(n+b) in closed form.
//
// With `allExperts` sweeps (calibrateAll) the ExpertEvents cover every token with weight = the
// router probability of e, so output_l2_avg averages over all tokens and reap becomes
// mean_t p_e(t)·‖E(x_t)‖₂; the router-based metrics do not change.
import type { ExpertEvent, LayerObserver, RouterEvent, Tensor2D } from '../../model/types';
import { tf } from '../../tensor/backend';
import type { ScoreMetric } from './score-metric';

function rowNorms(x: Tensor2D): Float32Array {
  const n = tf.tidy(() => tf.sqrt(tf.sum(tf.square(x), 1)));
  try {
    return n.dataSync() as Float32Array;
  } finally {
    n.dispose();
  }
}

export class ExpertScoreAccumulator {
  private readonly sum: Float64Array;
  private readonly count: Float64Array;
  private sequences = 0;

  constructor(
    readonly layer: number,
    readonly experts: number,
    readonly metric: ScoreMetric,
  ) {
    this.sum = new Float64Array(experts);
    this.count = new Float64Array(experts);
  }

  private onRouter(e: RouterEvent): void {
    const k = e.topK;
    const n = e.experts.length / k;
    switch (this.metric) {
      case 'activation_frequency':
        for (const x of e.experts) this.sum[x]! += 1;
        return;
      case 'sum_routing_weights': {
        const N = e.probs.shape[1];
        const p = e.probs.dataSync();
        for (let t = 0; t < n; t++)
          for (let j = 0; j < k; j++) {
            const x = e.experts[t * k + j]!;
            this.sum[x]! += p[t * N + x]!;
          }
        return;
      }
      case 'softmax_mass': {
        const N = e.probs.shape[1];
        const p = e.probs.dataSync();
        for (let t = 0; t < n; t++) for (let x = 0; x < N; x++) this.sum[x]! += p[t * N + x]!;
        return;
      }
      case 'topk_mass':
        e.experts.forEach((x, i) => {
          this.sum[x]! += e.weights[i]!;
        });
        return;
      default:
        return;
    }
  }

  private onExpert(e: ExpertEvent): void {
    const m = e.rows.length;
    if (m === 0) return;
    const x = e.expert;
    switch (this.metric) {
      case 'input_l2_avg':
      case 'output_l2_avg': {
        const norms = rowNorms(this.metric === 'input_l2_avg' ? e.input : e.output);
        let s = 0;
        for (const v of norms) s += v;
        const mean = s / m;
        if (Number.isFinite(mean)) {
          this.sum[x]! += mean;
          this.count[x]! += 1;
        }
        return;
      }
      case 'reap': {
        const norms = rowNorms(e.output);
        for (let i = 0; i < m; i++) {
          const v = e.weights[i]! * norms[i]!;
          if (!Number.isFinite(v)) continue;
          this.sum[x]! += v;
          this.count[x]! += 1;
        }
        return;
      }
      default:
        return;
    }
  }

  observer(): LayerObserver {
    const o: LayerObserver = {};
    const m = this.metric;
    if (m === 'softmax_mass' || m === 'topk_mass')
      o.onLayerInput = (e) => {
        this.sequences += e.batch;
      };
    if (m === 'input_l2_avg' || m === 'output_l2_avg' || m === 'reap') o.onExpert = (e) => this.onExpert(e);
    else o.onRouter = (e) => this.onRouter(e);
    return o;
  }

  /** One score per expert of the view the sweep ran. */
  scores(): number[] {
    const s = [...this.sum];
    switch (this.metric) {
      case 'activation_frequency': {
        const total = s.reduce((a, b) => a + b, 0);
        return s.map((v) => (total > 0 ? v / total : 0));
      }
      case 'input_l2_avg':
      case 'output_l2_avg':
      case 'reap':
        return s.map((v, i) => (this.count[i]! > 0 ? v / this.count[i]! : 0));
      case 'softmax_mass':
      case 'topk_mass':
        return s.map((v) => (this.sequences > 0 ? v / this.sequences : 0));
      default:
        return s;
    }
  }
}
