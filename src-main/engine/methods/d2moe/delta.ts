// Delta weights Δ_e = W_e − W_b and their truncation-aware SVD (METHODS §3.3, §3.4), on the host.
// Per expert: S_e = chol(G_e) of that expert's own routed tokens (gate/up: its input Gram; down: its
// intermediate Gram), Δ_e S_e = U Σ Vᵀ, ΔU = U_r √Σ_r, ΔV = √Σ_r V_rᵀ S_e⁻¹ (lowrank/factorize.ts),
// so Σ_{i>r} σ_i² is the delta's output error on the calibration tokens (§1.2). An expert no token
// reached has G = 0: identity scaling (plain SVD), counted as a fallback (§10.3).
// ShareV: D = [Δ_1; …; Δ_n] (the kept, untrimmed experts), S̄ = Σ f_e S_e / Σ f_e (the Cholesky
// *factors* averaged, as the reference), one SVD of D·S̄ at the same rank r; the shared V is
// √Σ V_rᵀ S̄⁻¹ and expert e's U the rows [e·m, (e+1)·m) of U_r √Σ_r. MergeU: every U replaced by
// Σ f_e U_e / Σ f_e (plain mean when no expert saw a token).
import type { z } from 'zod';
import type { Matrix32, Matrix64 } from '../../linalg/matrix';
import { invertLowerWithRetry } from '../../linalg/triangular';
import { factorizeLowRank } from '../lowrank/factorize';
import type { Scale } from '../lowrank/scaling';
import type { SvdOptions } from '../params-common';

export interface DeltaFactors {
  /** per kept expert (same order as the input) */
  A: Matrix32[];
  /** one per expert, or the same object for every expert (ShareV) */
  B: Matrix32[];
  /** Σ_{i>r} σ_i² / ‖Δ S‖²_F per expert (ShareV: of the stacked matrix, repeated) */
  relError: number[];
  /** Σ_{i>r} σ_i(Δ S)² per expert (ShareV: the stacked total, repeated) */
  discarded: number[];
  total: number[];
}

export interface DeltaInput {
  /** Δ_e, [m, n] row-major */
  delta: Float32Array;
  scale: Scale;
  /** routing frequency count f_e */
  freq: number;
}

type Svd = z.output<typeof SvdOptions>;

/** Frequency-weighted average of the experts' lower Cholesky factors (identity scales have f = 0). */
export function averagedScale(inputs: readonly DeltaInput[], n: number): Scale {
  const lower = inputs.filter((d) => d.scale.kind === 'lower' && d.freq > 0);
  const fs = lower.reduce((a, d) => a + d.freq, 0);
  if (lower.length === 0 || fs === 0)
    return { kind: 'identity', dim: n, fallback: 'no expert saw a token: plain SVD' };
  const L = new Float64Array(n * n);
  for (const d of lower) {
    const s = d.scale as Extract<Scale, { kind: 'lower' }>;
    const w = d.freq / fs;
    for (let i = 0; i < n * n; i++) L[i] += w * s.L.data[i]!;
  }
  const Lm: Matrix64 = { rows: n, cols: n, data: L };
  const { inverse, shift } = invertLowerWithRetry(Lm, 1e-6);
  return {
    kind: 'lower',
    dim: n,
    L: Lm,
    Linv: inverse,
    inverseShift: shift,
    repair: { variant: 'none', applied: false },
  };
}

/** Factorise every Δ_e ([m, n]) at rank r; `shareV` / `mergeU` as §3.4. */
export function decomposeDeltas(
  inputs: readonly DeltaInput[],
  m: number,
  n: number,
  rank: number,
  opts: { shareV: boolean; mergeU: boolean; svd: Svd },
): DeltaFactors {
  const r = Math.min(rank, m, n);
  if (!opts.shareV) {
    const out: DeltaFactors = { A: [], B: [], relError: [], discarded: [], total: [] };
    for (const d of inputs) {
      const f = factorizeLowRank({ rows: m, cols: n, data: d.delta }, r, d.scale, opts.svd);
      out.A.push(f.A);
      out.B.push(f.B);
      out.discarded.push(f.discardedEnergy);
      out.total.push(f.totalEnergy);
      out.relError.push(f.totalEnergy > 0 ? f.discardedEnergy / f.totalEnergy : 0);
    }
    return out;
  }
  const N = inputs.length;
  const stacked = new Float32Array(N * m * n);
  inputs.forEach((d, e) => {
    stacked.set(d.delta, e * m * n);
  });
  const scale = averagedScale(inputs, n);
  const f = factorizeLowRank({ rows: N * m, cols: n, data: stacked }, Math.min(r, N * m), scale, opts.svd);
  const rr = f.A.cols;
  let A: Matrix32[] = inputs.map((_, e) => ({
    rows: m,
    cols: rr,
    data: f.A.data.slice(e * m * rr, (e + 1) * m * rr),
  }));
  if (opts.mergeU) {
    const fs = inputs.reduce((a, d) => a + d.freq, 0);
    const w = inputs.map((d) => (fs > 0 ? d.freq / fs : 1 / N));
    const merged = new Float32Array(m * rr);
    const acc = new Float64Array(m * rr);
    A.forEach((a, e) => {
      for (let i = 0; i < acc.length; i++) acc[i] += w[e]! * a.data[i]!;
    });
    merged.set(acc);
    const one: Matrix32 = { rows: m, cols: rr, data: merged };
    A = inputs.map(() => one);
  }
  const rel = f.totalEnergy > 0 ? f.discardedEnergy / f.totalEnergy : 0;
  return {
    A,
    B: inputs.map(() => f.B),
    relError: inputs.map(() => rel),
    discarded: inputs.map(() => f.discardedEnergy),
    total: inputs.map(() => f.totalEnergy),
  };
}
