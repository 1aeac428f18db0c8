// SVD-LLM (METHODS §1.2): truncation-aware whitening per expert from that expert's own routed tokens.
// gate/up share the expert input Gram, down uses the Gram of its intermediate act(gate·x)⊙(up·x).
// An expert that received no calibration token has G = 0: it falls back to plain SVD (§10.3), counted.
import { factorizeExperts, meanErrors } from './expert-factorize';
import { identityScale, type Scale, whiteningScale } from './lowrank/scaling';
import type { SvdLlmParams } from './svd-llm.params';
import type { LowRankMethod } from './types';

export const svdLlm: LowRankMethod<SvdLlmParams> = {
  id: 'svd-llm',
  needs: () => ({ inputs: true }),
  compressLayer({ view, stats, rank, params }) {
    // gate and up share one input whitening: compute it once per expert
    const cache = new Map<string, Scale>();
    const r = factorizeExperts(
      view,
      rank,
      (e, p, dim) => {
        const key = `${e}:${p === 'down' ? 'down' : 'in'}`;
        let s = cache.get(key);
        if (!s) {
          const st = p === 'down' ? stats.experts[e]!.intermediate : stats.experts[e]!.input;
          s = st ? whiteningScale(st, { repair: params.repair }) : identityScale(dim, 'no statistics');
          cache.set(key, s);
        }
        return s;
      },
      params.svd,
    );
    const idle = stats.experts.filter((e) => e.tokens === 0).length;
    return {
      view: r.view,
      record: {
        method: 'svd-llm',
        rank,
        tokens: stats.experts.map((e) => e.tokens),
        fallbackExperts: idle,
        fallbacks: r.fallbacks / 3,
        relError: meanErrors(r.errors),
        experts: r.errors,
      },
    };
  },
};
