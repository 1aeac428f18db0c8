// The memory pre-flight's estimate for one low-rank step at a whole-model ratio, as the runner
// computes it before any work: the step solved on the model's plan state, its declared schedule,
// the run estimate. Shared by the memory-schedule test and the scale bench so both pin one number.
import type { AnyMethodDeclaration } from '../../src-main/engine/methods/method';
import type { LoadedModel } from '../../src-main/engine/model/model';
import { solveStep } from '../../src-main/engine/pipeline/budget';
import { estimateRunMemory, type StepMemory } from '../../src-main/engine/pipeline/memory-preflight';
import { stateFromSpec, stateParams } from '../../src-main/engine/pipeline/plan-state';

/** the calibration the estimates are pinned at */
export const PREFLIGHT_CALIBRATION = { samples: 32, seqLen: 256, batch: 8 };

export function preflightEstimate(
  model: LoadedModel,
  decl: AnyMethodDeclaration,
  raw: unknown,
  ratio = 0.2,
  calibration = PREFLIGHT_CALIBRATION,
) {
  const params = decl.params.parse(raw);
  const before = stateFromSpec(model.spec);
  const solved = solveStep({ decl, params }, { kind: 'ratio', ratio }, before, stateParams(before), 0, null);
  const stats = decl.statsBytes!(params, model.spec, before, calibration, solved.knobs) as StepMemory;
  return { stats, rank: solved.knobs.rank!, est: estimateRunMemory(model.spec, calibration, stats) };
}
