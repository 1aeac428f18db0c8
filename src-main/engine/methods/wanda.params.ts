// Declaration of `wanda` (family S, METHODS §4.1): score |W_ij|·‖x_j‖ with the input statistic of each
// expert from the tokens routed to it; unstructured = the ⌊s·in⌋ lowest of every output row, or N:M.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import {
  CalibrateOn,
  nmSparsityCheck,
  SlimOptions,
  slimCheck,
  slimKnob,
  slimStatsBytes,
  slimWeightBytes,
} from './slim/params-common';

export const WandaParams = z
  .object({ ...SlimOptions, calibrateOn: CalibrateOn })
  .strict()
  .superRefine(nmSparsityCheck)
  .describe('Wanda: weight × input-norm pruning of the expert weights, per-expert routed-token statistics');
export type WandaParams = z.output<typeof WandaParams>;

export const wandaBytes = slimWeightBytes('row');

export const wandaDeclaration: MethodDeclaration<WandaParams> = {
  id: 'wanda',
  family: 'S',
  title: 'Wanda',
  description:
    'Prune by |W|·‖x‖ per output row (or N:M), ‖x_j‖ over each expert’s own routed tokens; idle experts fall back to |W|.',
  params: WandaParams,
  knob: slimKnob(wandaBytes),
  check: (_p, s) => slimCheck(s),
  statsBytes: (p, spec) => slimStatsBytes(spec, p, 'diag'),
  load: async () => (await import('./slim/as-step')).slimStep('wanda'),
};
