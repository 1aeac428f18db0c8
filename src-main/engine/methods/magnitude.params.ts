// Declaration of `magnitude` (family S, METHODS §4.1): zero the weights of smallest |W| in every
// routed expert matrix — unstructured with one threshold per matrix (exactly ⌊s·out·in⌋ zeros), or
// N:M per group of M consecutive inputs of each row. No calibration data. No tfjs here.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { nmSparsityCheck, SlimOptions, slimCheck, slimKnob, slimWeightBytes } from './slim/params-common';

export const MagnitudeParams = z
  .object({ ...SlimOptions })
  .strict()
  .superRefine(nmSparsityCheck)
  .describe('magnitude pruning of the expert weights (score |W|)');
export type MagnitudeParams = z.output<typeof MagnitudeParams>;

/** Bytes of the touched matrices before and after, per layer (nonzeros × dtype + index bytes). */
export const magnitudeWeightBytes = slimWeightBytes('matrix');

export const magnitudeDeclaration: MethodDeclaration<MagnitudeParams> = {
  id: 'magnitude',
  family: 'S',
  title: 'Magnitude pruning',
  description:
    'Zero the smallest-|W| weights of every routed expert matrix (per-matrix threshold, or N:M per row); the matrices stay dense with zeros in place. Shared experts optional; routers only with includeRouter, which reproduces the Unified reference including them by accident.',
  params: MagnitudeParams,
  knob: slimKnob(magnitudeWeightBytes),
  check: (_p, s) => slimCheck(s),
  load: async () => (await import('./magnitude')).magnitude,
};
