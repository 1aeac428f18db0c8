// Declaration of `sparsegpt` (family S, METHODS §4.1): OBS pruning with the per-expert Hessian
// H = (2/n)·Σ x xᵀ over the tokens routed to the expert (§10.3); dead inputs (H_jj = 0) get H_jj = 1
// and zero weights; damping 0.01·mean(diag H); the upper Cholesky factor of H⁻¹; 128-column blocks,
// masks per block (unstructured: exactly ⌊s·out·width⌋ of w²/[H⁻¹]_jj² lowest) or per M-group (N:M);
// error compensation within and after each block. Idle experts fall back to magnitude. No tfjs here.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { gramBytes } from './params-common';
import { HessianOptions, nmSparsityCheck, SlimOptions, slimCheck, slimKnob, slimWeightBytes } from './slim/params-common';

export const SparseGptParams = z
  .object({ ...SlimOptions, ...HessianOptions })
  .strict()
  .superRefine(nmSparsityCheck)
  .describe('SparseGPT: one-shot OBS pruning with per-expert routed-token Hessians');
export type SparseGptParams = z.output<typeof SparseGptParams>;

export const sparseGptWeightBytes = slimWeightBytes('block');

export const sparseGptDeclaration: MethodDeclaration<SparseGptParams> = {
  id: 'sparsegpt',
  family: 'S',
  title: 'SparseGPT',
  description:
    'Prune each routed expert matrix with OBS updates from its routed-token Hessian (128-column blocks, unstructured or N:M); idle experts fall back to magnitude. Shared experts optional; routers only with includeRouter, which reproduces the Unified reference including them by accident.',
  params: SparseGptParams,
  knob: slimKnob(sparseGptWeightBytes),
  check: (_p, s) => slimCheck(s),
  statsBytes: (_p, spec) =>
    gramBytes(spec) + 2 * 8 * (spec.hidden ** 2 + spec.sharedIntermediate ** 2),
  load: async () => (await import('./sparsegpt')).sparsegpt,
};
