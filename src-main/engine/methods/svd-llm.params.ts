// Declaration of `svd-llm` (family D): Cholesky whitening per expert from its own routed tokens (§1.2).
import { z } from 'zod';
import { lowRankCheck, lowRankKnob, perExpertCap, perExpertUnit } from './lowrank/knob';
import { lowRankStatsBytes } from './lowrank/memory-schedule';
import type { MethodDeclaration } from './method';
import { PdRepair, RankOptions, SvdOptions } from './params-common';

export const SvdLlmParams = z
  .object({
    ...RankOptions,
    repair: PdRepair.default('shift-min-eig').describe(
      "positive-definite repair of the Gram before Cholesky: compression-MoE 'shift-min-eig', D²-MoE 'clamp-eig', MoE-SVD 'shift-all'",
    ),
    svd: SvdOptions,
  })
  .strict()
  .describe('SVD-LLM: Cholesky whitening of each expert matrix by its own routed calibration tokens');
export type SvdLlmParams = z.output<typeof SvdLlmParams>;

export const svdLlmDeclaration: MethodDeclaration<SvdLlmParams> = {
  id: 'svd-llm',
  family: 'D',
  title: 'SVD-LLM',
  description:
    'Truncation-aware whitening: S = chol(Σ x xᵀ) over the expert’s routed tokens; discarded σ² = calibration output error.',
  params: SvdLlmParams,
  knob: lowRankKnob({ unitPerRank: perExpertUnit, rankCap: perExpertCap }),
  check: (_p, s) => lowRankCheck(s),
  statsBytes: lowRankStatsBytes('whitening'),
  load: async () => {
    const [{ expertByExpertStep }, m] = await Promise.all([
      import('./lowrank/expert-step'),
      import('./svd-llm'),
    ]);
    return expertByExpertStep(m.svdLlmExpert);
  },
};
