// Router semantics on the host (n × N floats per chunk is tiny next to the expert matmuls).
import type { RoutingSpec } from '../types';

export interface Routed {
  /** [n·k] expert index per token, token-major, in the order HF's topk returns them. */
  experts: Int32Array;
  /** [n·k] routing weights. */
  weights: Float32Array;
  /** [n·N] probabilities (softmax) — for sparsemixer, the plain softmax of the logits, for observers. */
  probs: Float32Array;
}

/** Row-wise numerically stable softmax in f64, stored as f32. */
export function softmaxRows(logits: Float32Array, n: number, N: number): Float32Array {
  const out = new Float32Array(n * N);
  for (let t = 0; t < n; t++) {
    const o = t * N;
    let m = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < N; e++) m = Math.max(m, logits[o + e]!);
    let s = 0;
    for (let e = 0; e < N; e++) s += Math.exp(logits[o + e]! - m);
    for (let e = 0; e < N; e++) out[o + e] = Math.exp(logits[o + e]! - m) / s;
  }
  return out;
}

/** Indices of the k largest values of row[o..o+N), descending; ties keep the lower index. */
export function topKIndices(
  row: Float32Array,
  o: number,
  N: number,
  k: number,
  out: Int32Array,
  outOffset: number,
): void {
  for (let j = 0; j < k; j++) {
    let best = -1;
    let bv = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < N; e++) {
      const v = row[o + e]!;
      if ((best < 0 || v > bv) && !taken(out, outOffset, j, e)) {
        best = e;
        bv = v;
      }
    }
    out[outOffset + j] = best;
  }
}

function taken(out: Int32Array, off: number, j: number, e: number): boolean {
  for (let i = 0; i < j; i++) if (out[off + i] === e) return true;
  return false;
}

/** softmax over all N logits, top-k of the probabilities, optional renormalisation (sum + eps). */
export function softmaxTopK(
  logits: Float32Array,
  n: number,
  N: number,
  topK: number,
  normTopK: boolean,
  normEps: number,
): Routed {
  const probs = softmaxRows(logits, n, N);
  const experts = new Int32Array(n * topK);
  const weights = new Float32Array(n * topK);
  for (let t = 0; t < n; t++) {
    topKIndices(probs, t * N, N, topK, experts, t * topK);
    let s = 0;
    for (let j = 0; j < topK; j++) s += probs[t * N + experts[t * topK + j]!]!;
    const denom = normTopK ? s + normEps : 1;
    for (let j = 0; j < topK; j++) weights[t * topK + j] = probs[t * N + experts[t * topK + j]!]! / denom;
  }
  return { experts, weights, probs };
}

/**
 * Phi-3.5-MoE sparsemixer in inference mode (HF `sparsemixer`, training=False): pick the arg-max,
 * weight it by a softmax over the logits that lie within 2·eps (relative) of it; then mask that
 * expert and repeat for the second choice.
 */
export function sparsemixer(logits: Float32Array, n: number, N: number, jitterEps: number): Routed {
  const experts = new Int32Array(n * 2);
  const weights = new Float32Array(n * 2);
  const row = new Float64Array(N);
  for (let t = 0; t < n; t++) {
    const o = t * N;
    for (let e = 0; e < N; e++) row[e] = logits[o + e]!;
    let masked = -1;
    for (let j = 0; j < 2; j++) {
      // scores with the previously selected expert set to -inf (second round)
      let best = -1;
      let mx = Number.NEGATIVE_INFINITY;
      for (let e = 0; e < N; e++) {
        if (e === masked) continue;
        if (best < 0 || row[e]! > mx) {
          mx = row[e]!;
          best = e;
        }
      }
      // mask: (max - scores) / max(|scores|, max) > 2·eps, computed on the *unmasked* scores
      let z = 0;
      for (let e = 0; e < N; e++) {
        if (e === masked) continue;
        const factor = Math.max(Math.abs(row[e]!), mx);
        if ((mx - row[e]!) / factor > 2 * jitterEps) continue;
        z += Math.exp(row[e]! - mx);
      }
      experts[t * 2 + j] = best;
      weights[t * 2 + j] = 1 / z; // exp(mx - mx) / z
      masked = best;
    }
  }
  return { experts, weights, probs: softmaxRows(logits, n, N) };
}

export function route(logits: Float32Array, n: number, N: number, spec: RoutingSpec): Routed {
  return spec.kind === 'sparsemixer'
    ? sparsemixer(logits, n, N, spec.jitterEps)
    : softmaxTopK(logits, n, N, spec.topK, spec.normTopK, spec.normEps);
}
