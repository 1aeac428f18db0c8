// ASVD (METHODS §1.3): diagonal activation-aware scale S = diag(m^α), m = Σ_batches mean|x| over the
// expert's routed tokens (inputs for gate/up, intermediate act(gate)·up for down). `asvdExpert` is
// the pipeline step's expert-by-expert form, `asvd` the whole-layer one; both use `scale`.

import type { AsvdParams } from './asvd.params';
import { factorizeExperts, meanErrors } from './expert-factorize';
import type { ExpertLowRank, LayerOutcome } from './lowrank/expert-by-expert';
import { asvdScale, identityScale, type Scale } from './lowrank/scaling';
import type { LowRankMethod } from './types';

function scale(
  p: AsvdParams,
  st: { dim: number; tokens: number; absMeanSum?: Float64Array } | undefined,
  dim: number,
): Scale {
  return st?.absMeanSum
    ? asvdScale({ dim: st.dim, tokens: st.tokens, absMeanSum: st.absMeanSum }, { alpha: p.alpha })
    : identityScale(dim, 'no statistics');
}

function record(r: LayerOutcome): Record<string, unknown> {
  return {
    method: 'asvd',
    rank: r.rank,
    tokens: r.tokens,
    fallbacks: r.fallbacks / 3,
    relError: meanErrors(r.errors),
    experts: r.errors,
  };
}

export const asvdExpert: ExpertLowRank<AsvdParams> = {
  id: 'asvd',
  statistics: () => ({ gram: false, absMean: true }),
  scale,
  svd: (p) => p.svd,
  record: (_p, r) => record(r),
};

export const asvd: LowRankMethod<AsvdParams> = {
  id: 'asvd',
  needs: () => ({ inputs: true }),
  compressLayer({ view, stats, rank, params }) {
    const r = factorizeExperts(
      view,
      rank,
      (e, p, dim) =>
        scale(params, p === 'down' ? stats.experts[e]!.intermediate : stats.experts[e]!.input, dim),
      params.svd,
    );
    return {
      view: r.view,
      record: record({
        rank,
        tokens: stats.experts.map((e) => e.tokens),
        errors: r.errors,
        fallbacks: r.fallbacks,
      }),
    };
  },
};
