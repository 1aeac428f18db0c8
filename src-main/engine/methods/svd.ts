// Vanilla SVD of every routed expert matrix (S = I, METHODS §2.4). `svdExpert` is the pipeline
// step's expert-by-expert form (no statistics: the sweep only counts routed tokens), `svd` the
// whole-layer one.
import { factorizeExperts, meanErrors } from './expert-factorize';
import type { ExpertLowRank, LayerOutcome } from './lowrank/expert-by-expert';
import { identityScale } from './lowrank/scaling';
import type { SvdParams } from './svd.params';
import type { LowRankMethod } from './types';

function record(r: LayerOutcome): Record<string, unknown> {
  return { method: 'svd', rank: r.rank, tokens: r.tokens, relError: meanErrors(r.errors), experts: r.errors };
}

export const svdExpert: ExpertLowRank<SvdParams> = {
  id: 'svd',
  statistics: () => ({ gram: false, absMean: false }),
  scale: (_p, _st, dim) => identityScale(dim),
  svd: (p) => p.svd,
  record: (_p, r) => record(r),
};

export const svd: LowRankMethod<SvdParams> = {
  id: 'svd',
  needs: () => ({}),
  compressLayer({ view, stats, rank, params }) {
    const r = factorizeExperts(view, rank, (_e, _p, dim) => identityScale(dim), params.svd);
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
