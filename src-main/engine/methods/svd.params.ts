// Declaration of `svd` (family D): vanilla truncated SVD of each routed expert matrix (S = I).
import { z } from 'zod';
import { lowRankCheck, lowRankKnob, perExpertCap, perExpertUnit } from './lowrank/knob';
import { lowRankStatsBytes } from './lowrank/memory-schedule';
import type { MethodDeclaration } from './method';
import { RankOptions, SvdOptions } from './params-common';

export const SvdParams = z
  .object({ ...RankOptions, svd: SvdOptions })
  .strict()
  .describe('vanilla truncated SVD of each routed expert matrix');
export type SvdParams = z.output<typeof SvdParams>;

export const svdDeclaration: MethodDeclaration<SvdParams> = {
  id: 'svd',
  family: 'D',
  title: 'Vanilla SVD',
  description: 'Truncated SVD of W for every routed expert gate/up/down (no activation information).',
  params: SvdParams,
  knob: lowRankKnob({ unitPerRank: perExpertUnit, rankCap: perExpertCap }),
  check: (_p, s) => lowRankCheck(s),
  statsBytes: lowRankStatsBytes('identity'),
  load: async () => {
    const [{ expertByExpertStep }, m] = await Promise.all([import('./lowrank/expert-step'), import('./svd')]);
    return expertByExpertStep(m.svdExpert);
  },
};
