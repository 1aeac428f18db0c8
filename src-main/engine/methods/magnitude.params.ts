// Declaration of `magnitude` (family S, METHODS §4.1): zero the smallest |W| of every slimmed expert
// matrix — unstructured (the ⌊s·rows·cols⌋ smallest of the matrix) or N:M per row. No calibration.
// Sparsity changes bytes, not params: the knob is fixed by the params (slim/params-common.ts).
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { nmSparsityCheck, SlimOptions, slimCheck, slimKnob, slimWeightBytes } from './slim/params-common';

export const MagnitudeParams = z
  .object({ ...SlimOptions })
  .strict()
  .superRefine(nmSparsityCheck)
  .describe('magnitude pruning of the expert weights (Unified Expert Slimming, no calibration)');
export type MagnitudeParams = z.output<typeof MagnitudeParams>;

export const magnitudeBytes = slimWeightBytes('matrix');

export const magnitudeDeclaration: MethodDeclaration<MagnitudeParams> = {
  id: 'magnitude',
  family: 'S',
  title: 'Magnitude pruning',
  description:
    'Zero the smallest-magnitude expert weights (unstructured per matrix, or N:M per row); weights stay in place.',
  params: MagnitudeParams,
  knob: slimKnob(magnitudeBytes),
  check: (_p, s) => slimCheck(s),
  load: async () => (await import('./slim/as-step')).slimStep('magnitude'),
};
