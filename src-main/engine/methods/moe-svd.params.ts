// Declaration of `moe-svd` (family D, METHODS §5): selective decomposition of the least sensitive
// MoE layers, V sharing and U trimming. Its knob is the rank, solved jointly with the number of
// decomposed layers: layers (least sensitive first, edges protected) are added until the exact rank
// meeting the target lies in [layerRankFraction·min(h, I), cap]; which layers is decided by the
// sensitivity pass at run time, the count and rank here from shapes (all MoE layers have one shape).
import { z } from 'zod';
import { type LayerPlanState, type ModelPlanState, stateParams } from '../pipeline/plan-state';
import {
  decomposableLayers,
  decompose,
  fixedRank,
  type LayerShape,
  layerShape,
  lowRankCheck,
} from './lowrank/knob';
import type { KnobSpec, MethodDeclaration } from './method';
import { gramBytes, PdRepair, RankOptions, SvdOptions } from './params-common';

export const MoeSvdParams = z
  .object({
    ...RankOptions,
    uTrimming: z
      .enum(['equation', 'appendix'])
      .default('equation')
      .describe(
        "reading of MoE-SVD's U trimming (docs/pipeline-config.md: moe-svd): 'equation' = layer-level whitening, A_i = Σ U_jΣ_j, one shared V·S⁻¹; 'appendix' = the pseudocode ((ΣU)(ΣΣ), own S_i⁻¹)",
      ),
    uKeep: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(2)
      .describe('k: U matrices kept per projection type (0 = no trimming, every expert keeps its own U)'),
    uFit: z
      .enum(['svd', 'projection'])
      .default('svd')
      .describe(
        "'svd' = U_jΣ_j from expert j's own SVD (paper); 'projection' = A_j = W_j·S·V_s, the least-squares fit to the shared V ('equation' only)",
      ),
    sigmaThreshold: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.01)
      .describe('principal rank r_i counts σ > sigmaThreshold·σ_max'),
    tau: z.number().gt(0).default(2).describe('outlier threshold τ of a_i: |x| > τ·mean|x|'),
    protectEdges: z.boolean().default(true).describe('never decompose the first and last MoE layer'),
    layerRankFraction: z
      .number()
      .gt(0)
      .max(1)
      .default(0.5)
      .describe(
        'layers are added (least sensitive first) until a rank ≥ this fraction of min(h, I) meets the target',
      ),
    repair: PdRepair.default('shift-all').describe(
      'positive-definite repair of the Gram (MoE-SVD appendix: shift all eigenvalues)',
    ),
    svd: SvdOptions,
  })
  .strict()
  .describe('MoE-SVD: selective layer decomposition with V sharing and U trimming');
export type MoeSvdParams = z.output<typeof MoeSvdParams>;

function kEff(s: LayerShape, p: MoeSvdParams): number {
  return p.uKeep === 0 ? s.experts : Math.min(p.uKeep, s.experts);
}

export const moeSvdAccounting = {
  /** per matrix type: k·m·r + r·n (k kept U's, one shared V; 'appendix' stores one B per expert) */
  unitPerRank(s: LayerShape, p: MoeSvdParams): number {
    const k = kEff(s, p);
    const sumM = 2 * s.intermediate + s.hidden; // gate, up: I×h; down: h×I
    const sumN = 2 * s.hidden + s.intermediate;
    return k * sumM + (p.uTrimming === 'appendix' ? s.experts : 1) * sumN;
  },
  // tensors held by several experts stay while any holder does: the one V per matrix type
  // ('equation') and the k < N kept U's (each one shared by a cluster of experts)
  sharedPerRank(s: LayerShape, p: MoeSvdParams): number {
    if (s.experts < 2) return 0;
    const k = kEff(s, p);
    return (
      (k < s.experts ? k * (2 * s.intermediate + s.hidden) : 0) +
      (p.uTrimming === 'appendix' ? 0 : 2 * s.hidden + s.intermediate)
    );
  },
  rankCap(s: LayerShape, p: MoeSvdParams): number {
    return Math.max(
      1,
      Math.min(
        s.hidden,
        s.intermediate,
        Math.floor((s.experts * 3 * s.hidden * s.intermediate) / moeSvdAccounting.unitPerRank(s, p)),
      ),
    );
  },
};

/** MoE layers MoE-SVD may select, in layer order (first and last MoE layer protected by default). */
export function moeSvdEligible(p: MoeSvdParams, s: ModelPlanState): LayerPlanState[] {
  const moe = s.layers.filter((l) => l.kind === 'moe');
  const edges = new Set(p.protectEdges && moe.length > 2 ? [moe[0]!.layer, moe[moe.length - 1]!.layer] : []);
  const ok = new Set(decomposableLayers(s).map((l) => l.layer));
  return moe.filter((l) => ok.has(l.layer) && !edges.has(l.layer));
}

const cap = (p: MoeSvdParams, s: ModelPlanState, ls: LayerPlanState[]) =>
  Math.max(1, Math.min(...ls.map((l) => moeSvdAccounting.rankCap(layerShape(s, l), p))));

const knob: KnobSpec<MoeSvdParams> = {
  name: 'rank',
  fixed: (p, s) => fixedRank(p, s),
  range: (p, s) => {
    const ls = moeSvdEligible(p, s);
    return ls.length === 0 ? [1, 0] : [1, cap(p, s, ls)];
  },
  // a fixed rank decomposes every eligible layer
  apply: (p, s, r) =>
    decompose(
      moeSvdAccounting,
      p,
      s,
      moeSvdEligible(p, s).map((l) => l.layer),
      r,
    ),
  describe: (p, s) => ({ layers: moeSvdEligible(p, s).length }),
  solve(p, s, t) {
    const eligible = moeSvdEligible(p, s);
    const c = cap(p, s, eligible);
    const minRank = Math.max(1, Math.ceil(p.layerRankFraction * Math.min(s.hidden, s.intermediate)));
    const at = (d: number) => {
      const layers = eligible.slice(0, d).map((l) => l.layer);
      const unit = eligible
        .slice(0, d)
        .reduce((a, l) => a + moeSvdAccounting.unitPerRank(layerShape(s, l), p), 0);
      const kept = stateParams(s) - eligible.slice(0, d).reduce((a, l) => a + l.expertParams, 0);
      const real = (t - kept) / unit;
      let best = Math.min(c, Math.max(1, Math.floor(real)));
      for (const r of [Math.min(c, Math.max(1, Math.ceil(real)))])
        if (Math.abs(kept + r * unit - t) < Math.abs(kept + best * unit - t)) best = r;
      const state = decompose(moeSvdAccounting, p, s, layers, best);
      return { d, real, rank: best, state, after: stateParams(state) };
    };
    let chosen: ReturnType<typeof at> | null = null;
    for (let d = 1; d <= eligible.length; d++) {
      const x = at(d);
      if (x.real >= minRank && x.real <= c + 0.5) {
        chosen = x;
        break;
      }
      if (!chosen || Math.abs(x.after - t) < Math.abs(chosen.after - t)) chosen = x;
    }
    if (!chosen) return { knobs: {} as Record<string, number>, state: s };
    return { knobs: { rank: chosen.rank, layers: chosen.d }, state: chosen.state };
  },
};

export const moeSvdDeclaration: MethodDeclaration<MoeSvdParams> = {
  id: 'moe-svd',
  family: 'D',
  title: 'MoE-SVD',
  description:
    'Decompose the least sensitive MoE layers; share one V per projection type, keep k U matrices.',
  params: MoeSvdParams,
  knob,
  check: (p, s) =>
    lowRankCheck(s) ??
    (moeSvdEligible(p, s).length === 0
      ? 'no MoE layer is eligible (first and last are protected; set protectEdges: false)'
      : null),
  statsBytes: (_p, spec) => gramBytes(spec),
  load: async () => {
    const [{ lowRankStep }, m] = await Promise.all([import('./lowrank/as-step'), import('./moe-svd')]);
    return lowRankStep(m.moeSvd, moeSvdEligible);
  },
};
