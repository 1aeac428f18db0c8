// SVD-LLM (METHODS §1.2): truncation-aware whitening per expert from that expert's own routed tokens.
// gate/up share the expert input Gram, down uses the Gram of its intermediate act(gate·x)⊙(up·x).
// An expert that received no calibration token has G = 0: it falls back to plain SVD (§10.3), counted.
// Two forms over one scale rule: `svdLlmExpert` (the pipeline step, expert by expert from a layer
// capture) and `svdLlm` (a whole layer from LayerStatsCollector statistics, the reference form).
import { factorizeExperts, meanErrors } from './expert-factorize';
import type { ExpertLowRank, LayerOutcome } from './lowrank/expert-by-expert';
import { identityScale, type Scale, whiteningScale } from './lowrank/scaling';
import type { Whitener } from './lowrank/whitening-thread';
import type { SvdLlmParams } from './svd-llm.params';
import type { LowRankMethod } from './types';

function scale(
  p: SvdLlmParams,
  st: { dim: number; tokens: number; gram?: { rows: number; cols: number; data: Float64Array } } | undefined,
  dim: number,
): Scale {
  return st?.gram
    ? whiteningScale({ dim: st.dim, tokens: st.tokens, gram: st.gram }, { repair: p.repair })
    : identityScale(dim, 'no statistics');
}

// the same scale on the whitening thread when one is given
function scaleOn(
  p: SvdLlmParams,
  st: Parameters<typeof scale>[1],
  dim: number,
  whitener?: Whitener,
): Scale | Promise<Scale> {
  return whitener && st?.gram
    ? whitener.whiten({ dim: st.dim, tokens: st.tokens, gram: st.gram }, { repair: p.repair })
    : scale(p, st, dim);
}

function record(r: LayerOutcome): Record<string, unknown> {
  return {
    method: 'svd-llm',
    rank: r.rank,
    tokens: r.tokens,
    fallbackExperts: r.tokens.filter((t) => t === 0).length,
    fallbacks: r.fallbacks / 3,
    relError: meanErrors(r.errors),
    experts: r.errors,
  };
}

export const svdLlmExpert: ExpertLowRank<SvdLlmParams> = {
  id: 'svd-llm',
  statistics: () => ({ gram: true, absMean: false }),
  scale: scaleOn,
  repair: (p) => p.repair,
  svd: (p) => p.svd,
  record: (_p, r) => record(r),
};

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
          s = scale(params, p === 'down' ? stats.experts[e]!.intermediate : stats.experts[e]!.input, dim);
          cache.set(key, s);
        }
        return s;
      },
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
