// Declaration of `asvd` (family D): activation-aware diagonal scaling per expert (METHODS §1.3).
import { z } from 'zod';
import { lowRankCheck, lowRankKnob, perExpertCap, perExpertUnit } from './lowrank/knob';
import { lowRankStatsBytes } from './lowrank/memory-schedule';
import type { MethodDeclaration } from './method';
import { RankOptions, SvdOptions } from './params-common';

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

export const asvdDeclaration: MethodDeclaration<AsvdParams> = {
  id: 'asvd',
  family: 'D',
  title: 'ASVD',
  description: 'Activation-aware SVD: W·diag(mean|x|^α) factorised, the scale folded back into B.',
  params: AsvdParams,
  knob: lowRankKnob({ unitPerRank: perExpertUnit, rankCap: perExpertCap }),
  check: (_p, s) => lowRankCheck(s),
  statsBytes: lowRankStatsBytes('diagonal'),
  load: async () => {
    const [{ expertByExpertStep }, m] = await Promise.all([
      import('./lowrank/expert-step'),
      import('./asvd'),
    ]);
    return expertByExpertStep(m.asvdExpert);
  },
};
