// Energy retained vs rank of the routed experts' matrices: e(r) = Σ_{i≤r} σ_i² / Σ_i σ_i², the share
// of ‖W‖_F² a rank-r truncation keeps (plain), or of ‖W S‖_F² with S = chol(G), G the Gram of the
// expert's routed inputs (whitened, as SVD-LLM: the share of the calibration output energy kept).
// σ² are the eigenvalues of W Wᵀ, resp. of W S Sᵀ Wᵀ = W G Wᵀ — no Cholesky, so no repair of G is
// needed — computed on the [out, out] side (f32 product on the backend, f64 eigenvalues).
import {
  ENERGY_PROJECTIONS,
  ENERGY_THRESHOLDS,
  type EnergyCurve,
  type EnergyRecord,
} from '../../contract/analyses';
import { EngineError } from '../errors';
import { eigh } from '../linalg/eigh';
import { type Matrix64, toTensor } from '../linalg/matrix';
import type { ExpertWeights, Linear, MoeLayerView } from '../model/types';
import { tf } from '../tensor/backend';
import { matMulT } from '../tensor/mat-mul-transposed';

/** Cumulative energy of σ² values (any order, negatives from rounding clamp to 0); ends at exactly 1. */
export function energyCurve(sigma2: ArrayLike<number>): Float64Array {
  const s = Float64Array.from(sigma2, (v) => {
    if (Number.isNaN(v)) throw new EngineError('singular value is NaN', { field: 'sigma' });
    return Math.max(0, v);
  }).sort((a, b) => b - a);
  const out = new Float64Array(s.length);
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc += s[i]!;
    out[i] = acc;
  }
  const total = acc;
  // a zero matrix keeps all of its (zero) energy at every rank
  for (let i = 0; i < s.length; i++) out[i] = total > 0 ? out[i]! / total : 1;
  if (s.length) out[s.length - 1] = 1;
  return out;
}

/** The smallest rank whose energy reaches `t`. */
export function rankReaching(curve: ArrayLike<number>, t: number): number {
  for (let i = 0; i < curve.length; i++) if (curve[i]! >= t - 1e-12) return i + 1;
  return curve.length;
}

/** W as a dense [out, in] tensor (factored and delta forms multiplied out); caller disposes. */
function denseOf(L: Linear): tf.Tensor2D {
  switch (L.kind) {
    case 'dense':
      return tf.clone(L.w);
    case 'factored':
      return tf.matMul(L.A, L.B);
    case 'delta':
      return tf.tidy(() => tf.add(L.base, tf.matMul(L.A, L.B)) as tf.Tensor2D);
    default:
      throw new EngineError(`energy analysis cannot read a '${(L as { kind: string }).kind}' matrix`, {
        field: 'experts',
        hint: 'analyse the model before quantization or sparsification',
      });
  }
}

/** G^{1/2} (symmetric square root, negative eigenvalues from rounding clamped to 0). */
function sqrtPsd(g: Matrix64): tf.Tensor2D {
  const { values, vectors } = eigh(g);
  const n = g.rows;
  const V = vectors!;
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++)
        s += V.data[i * n + k]! * Math.sqrt(Math.max(0, values[k]!)) * V.data[j * n + k]!;
      out[i * n + j] = s;
    }
  return tf.tensor2d(out, [n, n]);
}

/**
 * σ² of W [out, in] (or of W·S with S Sᵀ = G when `gram` is given), min(out, in) of them, from the
 * smaller side: eigenvalues of W G Wᵀ [out, out], or of G^{1/2} WᵀW G^{1/2} [in, in] (same spectrum).
 */
export function squaredSingularValues(L: Linear, gram?: Matrix64): Float64Array {
  const P = tf.tidy(() => {
    const w = denseOf(L);
    const [out, inp] = w.shape;
    if (out <= inp) return matMulT(gram ? tf.matMul(w, toTensor(gram)) : w, w, false, true);
    if (!gram) return matMulT(w, w, true, false);
    const r = sqrtPsd(gram);
    return tf.matMul(tf.matMul(r, matMulT(w, w, true, false)), r);
  });
  const m = P.shape[0];
  const data = Float64Array.from(P.dataSync());
  P.dispose();
  const values = eigh({ rows: m, cols: m, data }, { vectors: false }).values;
  return values.slice().reverse();
}

/** Ranks to sample a curve of length k at: all of them up to 256, else 128 spread points and k. */
export function sampleRanks(k: number): number[] {
  if (k <= 256) return Array.from({ length: k }, (_, i) => i + 1);
  const out = new Set<number>();
  for (let i = 1; i <= 128; i++) out.add(Math.max(1, Math.round((i / 128) * k)));
  out.add(1);
  return [...out].sort((a, b) => a - b);
}

function summarise(curves: readonly Float64Array[], ranks: readonly number[]): EnergyCurve {
  const at = (c: Float64Array, r: number) => c[Math.min(r, c.length) - 1] ?? 1;
  return {
    mean: ranks.map((r) => curves.reduce((a, c) => a + at(c, r), 0) / Math.max(1, curves.length)),
    min: ranks.map((r) => Math.min(...curves.map((c) => at(c, r)))),
    max: ranks.map((r) => Math.max(...curves.map((c) => at(c, r)))),
    rankAt: ENERGY_THRESHOLDS.map((t) => curves.map((c) => rankReaching(c, t))),
  };
}

export interface ExpertGrams {
  /** Gram of the expert's routed inputs (gate, up) and of its intermediates (down); null: no tokens */
  input: Matrix64 | null;
  intermediate: Matrix64 | null;
}

/** The layer's energy curves per projection; `grams` (per expert) whitens as SVD-LLM. */
export function layerEnergy(view: MoeLayerView, grams?: readonly ExpertGrams[]): EnergyRecord {
  const curves: Record<(typeof ENERGY_PROJECTIONS)[number], Float64Array[]> = { gate: [], up: [], down: [] };
  let fallback = 0;
  view.experts.forEach((e: ExpertWeights, i) => {
    const g = grams?.[i];
    const whiten = !!g?.input && !!g.intermediate;
    if (grams && !whiten) fallback++;
    for (const p of ENERGY_PROJECTIONS) {
      const G = whiten ? (p === 'down' ? g!.intermediate! : g!.input!) : undefined;
      curves[p].push(energyCurve(squaredSingularValues(e[p], G)));
    }
  });
  const fullRank = Math.min(...ENERGY_PROJECTIONS.flatMap((p) => curves[p].map((c) => c.length)));
  const ranks = sampleRanks(fullRank);
  return {
    analysis: 'energy',
    layer: view.layer,
    whitened: !!grams,
    fallbackExperts: fallback,
    fullRank,
    ranks,
    gate: summarise(curves.gate, ranks),
    up: summarise(curves.up, ranks),
    down: summarise(curves.down, ranks),
  };
}
