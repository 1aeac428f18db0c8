// Implementation of `expert-prune` (declaration: expert-prune.params.ts): the shared removal step
// with the configured metric; strategy threshold takes the global plan-pass path.
import type { ExpertPruneParams } from './expert-prune.params';
import type { StepImplementation } from './method';
import { removalStep } from './prune/as-step';

export const expertPrune: StepImplementation<ExpertPruneParams> = removalStep<ExpertPruneParams>({
  method: 'expert-prune',
  metric: (p) => p.metric,
  allExperts: (p) => p.calibrateAll,
  global: (p) => p.strategy === 'threshold',
});
