// Declaration of `wanda` (family S, METHODS §4.1): score |W_ij|·sqrt(s_j) with s_j the sum of squares
// of input channel j over the tokens routed to that expert (its inputs for gate/up, its intermediate
// act(gate·x)⊙(up·x) for down; §10.3); unstructured = the ⌊s·in⌋ lowest per output row (stable
// sort), or N:M per group. Experts no calibration token reaches fall back to magnitude. No tfjs here.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { nmSparsityCheck, SlimOptions, slimCheck, slimKnob, slimWeightBytes } from './slim/params-common';

export const WandaParams = z
  .object({ ...SlimOptions })
  .strict()
  .superRefine(nmSparsityCheck)
  .describe('Wanda: prune by |W|·‖x‖ with per-expert routed activations');
export type WandaParams = z.output<typeof WandaParams>;

export const wandaWeightBytes = slimWeightBytes('row');

export const wandaDeclaration: MethodDeclaration<WandaParams> = {
  id: 'wanda',
  family: 'S',
  title: 'Wanda',
  description:
    "Zero the weights with the lowest |W|·sqrt(Σx²) per output row (or N:M), x the tokens routed to each expert; idle experts fall back to magnitude. Shared experts optional; routers only with includeRouter, which reproduces the Unified reference including them by accident.",
  params: WandaParams,
  knob: slimKnob(wandaWeightBytes),
  check: (_p, s) => slimCheck(s),
  // per expert Σx² over inputs and intermediates, f64
  statsBytes: (_p, spec) => 8 * (spec.experts + 1) * (spec.hidden + Math.max(spec.moeIntermediate, spec.sharedIntermediate)) * 2,
  load: async () => (await import('./wanda')).wanda,
};
