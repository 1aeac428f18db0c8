// MoE-SVD (METHODS §5): sensitivity-driven selective decomposition, V-matrix sharing, U-matrix trimming.
// Decisions where §5 leaves things open (documented in docs/pipeline-config.md):
//  * S_L = Σ_i f_i·r_i·a_i; f_i = top-k selections of i / tokens; r_i = Σ over gate/up/down of the
//    count of σ > sigmaThreshold·σ_max of the raw weight; a_i = share of expert i's *input* activations
//    (post-norm hidden states of its routed tokens) with |x| > τ·mean|x| (mean from a first pass).
//  * layers are taken in ascending S_L (first/last MoE layer protected by default) until the exact
//    rank meeting the whole-model target lies in [layerRankFraction·min(h, I), cap] (else the layer
//    count closest to the target); the uniform rank is solved with the §2.2 rounding (pipeline/runner).
//  * sel(i) = the k most frequent experts of the layer if i is not among them, else the experts up to
//    and including i in frequency order (both readings of §5.5 select the same sets); the distinct
//    A's are therefore k prefix sums and are stored once each.
//  * 'equation' (default): ONE layer-level whitening S per input space (frequency-weighted Gram of all
//    experts' inputs, resp. intermediates), V_s from the most frequent expert, B = V_sᵀS⁻¹ shared by
//    every expert, A_i = Σ_{j∈sel(i)} U_jΣ_j. 'appendix': per-expert whitening S_i, A_i = (ΣU_j)(ΣΣ_j),
//    B_i = V_sᵀ S_i⁻¹ (one B per expert — nothing is really shared, and the accounting says so).
import { meanAbs, outlierFraction, pooledStatistics, routingFrequency } from '../calibration/layer-stats';
import { eigh } from '../linalg/eigh';
import { matmul64, matmulTf } from '../linalg/matmul';
import { fromTensor, type Matrix, type Matrix64, to64, toTensor, transpose } from '../linalg/matrix';
import type { ExpertWeights, Linear, Tensor2D } from '../model/types';
import { denseWeight, PROJECTIONS, type Projection, withExperts } from './expert-factorize';
import { factorizeLowRank } from './lowrank/factorize';
import { identityScale, type Scale, whiteningScale } from './lowrank/scaling';
import type { MoeSvdParams } from './moe-svd.params';

import type { LowRankMethod } from './types';

const mm = (a: Matrix, b: Matrix): Matrix =>
  2 * a.rows * a.cols * b.cols > 2e8 ? matmulTf(a, b) : matmul64(a, b);

/** M·S */
function timesScale(m: Matrix, s: Scale): Matrix {
  if (s.kind === 'identity') return m;
  if (s.kind === 'lower') return mm(m, s.L);
  const out = to64(m).data.slice();
  for (let i = 0; i < out.length; i++) out[i] *= s.d[i % m.cols]!;
  return { rows: m.rows, cols: m.cols, data: out };
}

/** M·S⁻¹ */
function timesInverse(m: Matrix, s: Scale): Matrix {
  if (s.kind === 'identity') return m;
  if (s.kind === 'lower') return mm(m, s.Linv);
  const out = to64(m).data.slice();
  for (let i = 0; i < out.length; i++) out[i] *= s.dInv[i % m.cols]!;
  return { rows: m.rows, cols: m.cols, data: out };
}

/** Columns (or rows) scaled by a vector: diag-from-the-right when `right`, else from the left. */
function scaleBy(m: Matrix, v: ArrayLike<number>, right: boolean): Matrix64 {
  const out = to64(m).data.slice();
  for (let i = 0; i < m.rows; i++)
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] *= right ? v[j]! : v[i]!;
  return { rows: m.rows, cols: m.cols, data: out };
}

interface Svd3 {
  /** UΣ (m×r) */
  us: Matrix;
  /** U (m×r) */
  u: Matrix;
  sigma: Float64Array;
  /** Vᵀ (r×in), unscaled */
  vt: Matrix;
  discarded: number;
  total: number;
}

function scaledSvd(W: Matrix, rank: number, S: Scale, svd: MoeSvdParams['svd']): Svd3 {
  const f = factorizeLowRank(W, rank, S, svd);
  const sq = Array.from(f.singularValues, Math.sqrt);
  const inv = sq.map((x) => (x > 0 ? 1 / x : 0));
  // A = U√Σ, B = √ΣVᵀS⁻¹ → UΣ = A√Σ, U = A/√Σ, Vᵀ = (B/√Σ)·S
  return {
    us: scaleBy(f.A, sq, true),
    u: scaleBy(f.A, inv, true),
    sigma: f.singularValues,
    vt: timesScale(scaleBy(f.B, inv, false), S),
    discarded: f.discardedEnergy,
    total: f.totalEnergy,
  };
}

const addInto = (acc: Float64Array | null, m: Matrix): Float64Array => {
  if (!acc) return to64(m).data.slice();
  for (let i = 0; i < acc.length; i++) acc[i] += m.data[i]!;
  return acc;
};

/** Experts ordered by descending frequency (ties: lower index first). */
export function frequencyOrder(f: ArrayLike<number>): number[] {
  return Array.from({ length: f.length }, (_, i) => i).sort((a, b) => f[b]! - f[a]! || a - b);
}

/** sel(i) as a prefix length of the frequency order (§5.5, both readings). */
export function selectionLength(position: number, k: number): number {
  return Math.min(position, k - 1) + 1;
}

export function principalRank(W: Matrix, threshold: number): number {
  const small = W.rows <= W.cols ? W : transpose(W);
  // σ² = eigenvalues of the smaller Gram W·Wᵀ
  const g = matmul64(small, transpose(small));
  const vals = eigh(g, { vectors: false }).values;
  const max = Math.sqrt(Math.max(0, vals[vals.length - 1] ?? 0));
  let n = 0;
  for (const v of vals) if (Math.sqrt(Math.max(0, v)) > threshold * max) n++;
  return n;
}

export const moeSvd: LowRankMethod<MoeSvdParams> = {
  id: 'moe-svd',
  needs: () => ({ inputs: true }),
  planPass: {
    needs: () => ({ absMean: true }),
    secondPass: (p, first) => ({ outliers: { tau: p.tau, mean: meanAbs(first) } }),
    summarize({ stats, view }, p) {
      const f = routingFrequency(stats);
      const a = outlierFraction(stats);
      let S = 0;
      const out: Record<string, number> = {};
      view.experts.forEach((ex, i) => {
        let r = 0;
        for (const proj of PROJECTIONS)
          r += principalRank(fromTensor(denseWeight(ex[proj])), p.sigmaThreshold);
        S += f[i]! * r * a[i]!;
        out[`f${i}`] = f[i]!;
        out[`r${i}`] = r;
        out[`a${i}`] = a[i]!;
      });
      return { sensitivity: S, ...out };
    },
  },
  compressLayer({ view, stats, rank, params }) {
    const N = view.experts.length;
    const f = routingFrequency(stats);
    const order = frequencyOrder(f);
    const pos = new Int32Array(N);
    order.forEach((e, i) => {
      pos[e] = i;
    });
    const k = params.uKeep === 0 ? N : Math.min(params.uKeep, N);
    const trim = params.uKeep !== 0;
    const s = order[0]!;
    const experts: ExpertWeights[] = view.experts.map(() => ({}) as ExpertWeights);
    const errors: Record<string, number> = {};
    for (const proj of PROJECTIONS) {
      const W = view.experts.map((ex) => fromTensor(denseWeight(ex[proj])));
      const inDim = W[0]!.cols;
      const side = (e: number) =>
        proj === 'down' ? stats.experts[e]!.intermediate : stats.experts[e]!.input;
      const whiten = (st: ReturnType<typeof side>) =>
        st ? whiteningScale(st, { repair: params.repair }) : identityScale(inDim, 'no statistics');
      const r = Math.min(rank, W[0]!.rows, inDim);
      if (params.uTrimming === 'equation') {
        const S = whiten(pooledStatistics(view.experts.map((_, e) => side(e))));
        const shared = scaledSvd(W[s]!, r, S, params.svd);
        const Bm = timesInverse(shared.vt, S); // V_sᵀ S⁻¹
        const B = toTensor(Bm);
        // S·V_s = (V_sᵀ·Sᵀ)ᵀ, for the projection fit A_j = W_j·S·V_s
        const sv =
          params.uFit === 'projection'
            ? transpose(S.kind === 'lower' ? mm(shared.vt, transpose(S.L)) : timesScale(shared.vt, S))
            : null;
        const fitOf = (j: number): Matrix =>
          j === s && !sv ? shared.us : sv ? mm(W[j]!, sv) : scaledSvd(W[j]!, r, S, params.svd).us;
        const aFor = buildAs(order, pos, k, trim, fitOf);
        view.experts.forEach((_, e) => {
          experts[e]![proj] = { kind: 'factored', A: aFor(e), B } as Linear;
        });
        errors[`${proj}SharedRelError`] = shared.total > 0 ? shared.discarded / shared.total : 0;
      } else {
        const scales = view.experts.map((_, e) => whiten(side(e)));
        const svds = new Map<number, Svd3>();
        const get = (j: number) => {
          let v = svds.get(j);
          if (!v) {
            v = scaledSvd(W[j]!, r, scales[j]!, params.svd);
            svds.set(j, v);
          }
          return v;
        };
        const vs = get(s).vt;
        // A_i = (Σ_j U_j)(Σ_j Σ_j), over the same prefix sets
        const memo = new Map<number, Tensor2D>();
        const aFor = (e: number): Tensor2D => {
          const len = trim ? selectionLength(pos[e]!, k) : -1;
          const key = trim ? len : -1 - e;
          let t = memo.get(key);
          if (!t) {
            const sel = trim ? order.slice(0, len) : [e];
            let u: Float64Array | null = null;
            const sig = new Float64Array(r);
            for (const j of sel) {
              const v = get(j);
              u = addInto(u, v.u);
              for (let q = 0; q < v.sigma.length; q++) sig[q] += v.sigma[q]!;
            }
            t = toTensor(scaleBy({ rows: W[0]!.rows, cols: r, data: u! }, sig, true));
            memo.set(key, t);
          }
          return t;
        };
        view.experts.forEach((_, e) => {
          experts[e]![proj] = {
            kind: 'factored',
            A: aFor(e),
            B: toTensor(timesInverse(vs, scales[e]!)),
          } as Linear;
        });
        const sh = get(s);
        errors[`${proj}SharedRelError`] = sh.total > 0 ? sh.discarded / sh.total : 0;
      }
    }
    return {
      view: withExperts(view, experts),
      record: {
        method: 'moe-svd',
        rank,
        uTrimming: params.uTrimming,
        uKeep: k,
        sharedVExpert: s,
        frequencyOrder: order,
        tokens: stats.experts.map((e) => e.tokens),
        fallbackExperts: stats.experts.filter((e) => e.tokens === 0).length,
        ...errors,
      },
    };
  },
};

/** Distinct A tensors per selection prefix (k prefix sums when trimming, own A otherwise). */
function buildAs(
  order: number[],
  pos: Int32Array,
  k: number,
  trim: boolean,
  fitOf: (j: number) => Matrix,
): (e: number) => Tensor2D {
  const fits = new Map<number, Matrix>();
  const getFit = (j: number) => {
    let m = fits.get(j);
    if (!m) {
      m = fitOf(j);
      fits.set(j, m);
    }
    return m;
  };
  const memo = new Map<number, Tensor2D>();
  return (e) => {
    const key = trim ? selectionLength(pos[e]!, k) : -1 - e;
    let t = memo.get(key);
    if (!t) {
      const sel = trim ? order.slice(0, key) : [e];
      let acc: Float64Array | null = null;
      for (const j of sel) acc = addInto(acc, getFit(j));
      const m0 = getFit(sel[0]!);
      t = toTensor({ rows: m0.rows, cols: m0.cols, data: acc! });
      memo.set(key, t);
    }
    return t;
  };
}

export type { Projection };
