// ASVD (METHODS §1.3): diagonal activation-aware scale S = diag(m^α), m = Σ_batches mean|x| over the
// expert's routed tokens (inputs for gate/up, intermediate act(gate)·up for down).

import type { AsvdParams } from './asvd.params';
import { factorizeExperts, meanErrors } from './expert-factorize';
import { asvdScale, identityScale } from './lowrank/scaling';
import type { LowRankMethod } from './types';

export const asvd: LowRankMethod<AsvdParams> = {
  id: 'asvd',
  needs: () => ({ inputs: true }),
  compressLayer({ view, stats, rank, params }) {
    const r = factorizeExperts(
      view,
      rank,
      (e, p, dim) => {
        const s = p === 'down' ? stats.experts[e]!.intermediate : stats.experts[e]!.input;
        return s ? asvdScale(s, { alpha: params.alpha }) : identityScale(dim, 'no statistics');
      },
      params.svd,
    );
    return {
      view: r.view,
      record: {
        method: 'asvd',
        rank,
        tokens: stats.experts.map((e) => e.tokens),
        fallbacks: r.fallbacks / 3,
        relError: meanErrors(r.errors),
        experts: r.errors,
      },
    };
  },
};
