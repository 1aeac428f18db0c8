// Base weight W_b of one projection type of one MoE layer (METHODS §3.2), on the host in f64.
//   fisher: W_b = Σ_e (f_e F_e) ⊘ (Σ_j f_j F_j) ⊙ W_e   (code version: Fisher × raw frequency count)
//   freq:   W_b = Σ_e f_e W_e / Σ_j f_j
//   mean:   W_b = Σ_e W_e / N
// PITFALL (§3.2): the reference has no epsilon, so an element whose Fisher is zero for every expert
// gives NaN. DECISION: an element whose denominator Σ_j f_j F_j is ≤ epsilon·max over the matrix
// (all-zero included) takes the frequency-weighted mean instead; such elements are counted. The
// Fisher may be element-wise ([out, in]) or diagonal ([in], broadcast over rows). With no routed
// token at all (Σ f = 0) the frequency weights fall back to the plain mean.
import type { MatrixFisher } from '../../grad/fisher';

export type BaseMethod = 'fisher' | 'freq' | 'mean';

export interface BaseResult {
  /** [out, in] row-major */
  data: Float32Array;
  /** elements that fell back to the frequency-weighted mean (fisher only) */
  fallbacks: number;
}

function weightsOf(freq: readonly number[], N: number): number[] {
  const s = freq.reduce((a, b) => a + b, 0);
  return s > 0 ? freq.map((f) => f / s) : Array.from({ length: N }, () => 1 / N);
}

/** `weights[e]` is expert e's matrix ([out, in]); `fisher[e]` its Fisher (needed for 'fisher'). */
export function mergeBase(
  method: BaseMethod,
  weights: readonly Float32Array[],
  rows: number,
  cols: number,
  freq: readonly number[],
  fisher: readonly (MatrixFisher | null)[] | null = null,
  epsilon = 1e-12,
): BaseResult {
  const N = weights.length;
  const size = rows * cols;
  const out = new Float64Array(size);
  const w = method === 'mean' ? Array.from({ length: N }, () => 1 / N) : weightsOf(freq, N);
  for (let e = 0; e < N; e++) {
    const we = w[e]!;
    if (we === 0) continue;
    const W = weights[e]!;
    for (let i = 0; i < size; i++) out[i] += we * W[i]!;
  }
  if (method !== 'fisher') return { data: Float32Array.from(out), fallbacks: 0 };
  if (!fisher || fisher.length !== N || fisher.some((f) => !f))
    throw new Error('d2-moe: the fisher base needs every expert’s Fisher');
  const diag = fisher[0]!.shape.length === 1;
  const at = (f: MatrixFisher, i: number) => (diag ? f.data[i % cols]! : f.data[i]!);
  const den = new Float64Array(size);
  const num = new Float64Array(size);
  for (let e = 0; e < N; e++) {
    const fe = freq[e]!;
    if (fe === 0) continue;
    const F = fisher[e]!;
    const W = weights[e]!;
    for (let i = 0; i < size; i++) {
      const c = fe * at(F, i);
      den[i] += c;
      num[i] += c * W[i]!;
    }
  }
  let max = 0;
  for (let i = 0; i < size; i++) max = Math.max(max, den[i]!);
  const floor = epsilon * max;
  let fallbacks = 0;
  for (let i = 0; i < size; i++) {
    if (den[i]! > floor && den[i]! > 0) out[i] = num[i]! / den[i]!;
    else fallbacks++;
  }
  return { data: Float32Array.from(out), fallbacks };
}
