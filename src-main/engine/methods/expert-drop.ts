// Implementation of `expert-drop` (declaration: expert-drop.params.ts): the shared removal step with
// the Unified router-mass score; mode global takes the plan-pass path.
import type { ExpertDropParams } from './expert-drop.params';
import type { StepImplementation } from './method';
import { removalStep } from './prune/as-step';

export const expertDrop: StepImplementation<ExpertDropParams> = removalStep<ExpertDropParams>({
  method: 'expert-drop',
  metric: (p, spec) =>
    p.score === 'auto' ? (spec.modelType === 'deepseek' ? 'topk_mass' : 'softmax_mass') : p.score,
  allExperts: () => false,
  global: (p) => p.mode === 'global',
});
