// Vanilla SVD of every routed expert matrix (S = I, METHODS §2.4).
import { factorizeExperts, meanErrors } from './expert-factorize';
import { identityScale } from './lowrank/scaling';
import type { SvdParams } from './svd.params';
import type { LowRankMethod } from './types';

export const svd: LowRankMethod<SvdParams> = {
  id: 'svd',
  needs: () => ({}),
  compressLayer({ view, stats, rank, params }) {
    const r = factorizeExperts(view, rank, (_e, _p, dim) => identityScale(dim), params.svd);
    return {
      view: r.view,
      record: {
        method: 'svd',
        rank,
        tokens: stats.experts.map((e) => e.tokens),
        relError: meanErrors(r.errors),
        experts: r.errors,
      },
    };
  },
};
