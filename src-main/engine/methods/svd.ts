// Vanilla SVD of every routed expert matrix (S = I, METHODS §2.4).
import { z } from 'zod';
import { factorizeExperts, meanErrors, perExpertCap, perExpertUnit } from './expert-factorize';
import { identityScale } from './lowrank/scaling';
import { RankOptions, SvdOptions } from './params-common';
import type { CompressionMethod } from './types';

export const SvdParams = z
  .object({ ...RankOptions, svd: SvdOptions })
  .strict()
  .describe('vanilla truncated SVD of each routed expert matrix');
export type SvdParams = z.output<typeof SvdParams>;

export const svd: CompressionMethod<SvdParams> = {
  id: 'svd',
  title: 'Vanilla SVD',
  description: 'Truncated SVD of W for every routed expert gate/up/down (no activation information).',
  params: SvdParams,
  needs: () => ({}),
  unitPerRank: perExpertUnit,
  rankCap: perExpertCap,
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
