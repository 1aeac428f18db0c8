// SVD-LLM (METHODS §1.2): truncation-aware whitening per expert from that expert's own routed tokens.
// gate/up share the expert input Gram, down uses the Gram of its intermediate act(gate·x)⊙(up·x).
// An expert that received no calibration token has G = 0: it falls back to plain SVD (§10.3), counted.
import { z } from 'zod';
import { PD_REPAIRS } from '../linalg/pd-repair';
import { factorizeExperts, meanErrors, perExpertCap, perExpertUnit } from './expert-factorize';
import { identityScale, type Scale, whiteningScale } from './lowrank/scaling';
import { RankOptions, SvdOptions } from './params-common';
import type { CompressionMethod } from './types';

export const SvdLlmParams = z
  .object({
    ...RankOptions,
    repair: z
      .enum(PD_REPAIRS as unknown as ['none', 'shift-min-eig', 'clamp-eig', 'shift-all'])
      .default('shift-min-eig')
      .describe(
        "positive-definite repair of the Gram before Cholesky: compression-MoE 'shift-min-eig', D²-MoE 'clamp-eig', MoE-SVD 'shift-all'",
      ),
    svd: SvdOptions,
  })
  .strict()
  .describe('SVD-LLM: Cholesky whitening of each expert matrix by its own routed calibration tokens');
export type SvdLlmParams = z.output<typeof SvdLlmParams>;

export const svdLlm: CompressionMethod<SvdLlmParams> = {
  id: 'svd-llm',
  title: 'SVD-LLM',
  description:
    'Truncation-aware whitening: S = chol(Σ x xᵀ) over the expert’s routed tokens; discarded σ² = calibration output error.',
  params: SvdLlmParams,
  needs: () => ({ inputs: true }),
  unitPerRank: perExpertUnit,
  rankCap: perExpertCap,
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
