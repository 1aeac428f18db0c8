// ASVD (METHODS §1.3): diagonal activation-aware scale S = diag(m^α), m = Σ_batches mean|x| over the
// expert's routed tokens (inputs for gate/up, intermediate act(gate)·up for down).
import { z } from 'zod';
import { factorizeExperts, meanErrors, perExpertCap, perExpertUnit } from './expert-factorize';
import { asvdScale, identityScale } from './lowrank/scaling';
import { RankOptions, SvdOptions } from './params-common';
import type { CompressionMethod } from './types';

export const AsvdParams = z
  .object({
    ...RankOptions,
    alpha: z
      .number()
      .min(0)
      .max(4)
      .default(0.5)
      .describe('exponent α of S = diag(m^α) (compression-MoE default 0.5)'),
    svd: SvdOptions,
  })
  .strict()
  .describe('ASVD: activation-aware diagonal scaling per expert');
export type AsvdParams = z.output<typeof AsvdParams>;

export const asvd: CompressionMethod<AsvdParams> = {
  id: 'asvd',
  title: 'ASVD',
  description: 'Activation-aware SVD: W·diag(mean|x|^α) factorised, the scale folded back into B.',
  params: AsvdParams,
  needs: () => ({ inputs: true }),
  unitPerRank: perExpertUnit,
  rankCap: perExpertCap,
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
