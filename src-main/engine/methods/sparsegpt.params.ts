// Declaration of `sparsegpt` (family S, METHODS §4.1): per expert the damped Hessian of its routed
// tokens, Cholesky inverse, 128-column blocks with OBS compensation; unstructured per block or N:M.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import {
  CalibrateOn,
  HessianOptions,
  nmSparsityCheck,
  SlimOptions,
  slimCheck,
  slimKnob,
  slimStatsBytes,
  slimWeightBytes,
} from './slim/params-common';

export const SparseGptParams = z
  .object({ ...SlimOptions, ...HessianOptions, calibrateOn: CalibrateOn })
  .strict()
  .superRefine(nmSparsityCheck)
  .describe('SparseGPT: Hessian-based pruning with OBS weight updates, per-expert routed-token Hessians');
export type SparseGptParams = z.output<typeof SparseGptParams>;

export const sparseGptBytes = slimWeightBytes('block');

export const sparseGptDeclaration: MethodDeclaration<SparseGptParams> = {
  id: 'sparsegpt',
  family: 'S',
  title: 'SparseGPT',
  description:
    'Prune with the inverse Hessian of each expert’s routed tokens and compensate the kept weights (OBS, 128-column blocks); idle experts use H = I.',
  params: SparseGptParams,
  knob: slimKnob(sparseGptBytes),
  check: (_p, s) => slimCheck(s),
  statsBytes: (p, spec) => slimStatsBytes(spec, p, 'gram'),
  load: async () => (await import('./slim/as-step')).slimStep('sparsegpt'),
};
