// `moe-bench plan` and validation before any compute: the model's shapes (config.json and the
// safetensors headers only, no tensor data, no calibration), the exact accounting of the real
// architecture and the budget solver give each step's knob, parameters and weight bytes. No tfjs:
// the main process validates and plans with it.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { SafetensorsFile } from '../io/safetensors';
import { dominantDtype, storageDtype } from '../io/safetensors-header';
import { getMethod } from '../methods/catalog';
import { loadModelSpec } from '../model/registry';
import type { ModelSpec } from '../model/types';
import { assertReachable, type BudgetPlan, planBudget, type StepAmount } from './budget';
import type { PipelineConfig } from './config';
import { dtypeBytes, type ModelPlanState, stateFromSpec } from './plan-state';

export interface PlanStepSummary {
  method: string;
  family: string;
  amount: StepAmount;
  noop: boolean;
  knobs: Record<string, number>;
  paramsAfter: number;
  weightBytesAfter: number;
  nonzerosAfter: number;
  /** whole-model ratio after this step in the budget's unit (params or weight bytes) */
  ratioAfter: number;
}

export interface PipelinePlan {
  model: string;
  architecture: string;
  paramsBefore: number;
  paramsAfter: number;
  weightBytesBefore: number;
  weightBytesAfter: number;
  nonzerosBefore: number;
  nonzerosAfter: number;
  /** what targetRatio / achievedRatio count */
  unit: 'params' | 'bytes';
  achievedRatio: number;
  targetRatio: number | null;
  tolerance: number;
  /** null when the target is reachable; otherwise why not and what is */
  problem: string | null;
  steps: PlanStepSummary[];
}

/** The dtype holding most bytes of the checkpoint, from the safetensors headers. */
export function checkpointDtype(dir: string): string {
  const index = path.join(dir, 'model.safetensors.index.json');
  const files = fs.existsSync(index)
    ? [
        ...new Set(
          Object.values(
            (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map,
          ),
        ),
      ].map((f: string) => path.join(dir, f))
    : [path.join(dir, 'model.safetensors')];
  const infos: { dtype: string; byteLength: number }[] = [];
  for (const f of files) {
    const st = SafetensorsFile.open(f);
    try {
      for (const n of st.names()) infos.push(st.info(n));
    } finally {
      st.close();
    }
  }
  return dominantDtype(infos) ?? 'F32';
}

export function exportDtype(config: PipelineConfig, sourceDtype: string): string {
  return config.export?.dtype ?? storageDtype(sourceDtype);
}

/** The budget plan for a resolved config on a model's initial state. */
export function budgetFor(config: PipelineConfig, state: ModelPlanState): BudgetPlan {
  const steps = config.steps.map((s, i) => ({
    decl: getMethod(s.method, `steps.${i}.method`),
    params: s.params,
  }));
  return planBudget(steps, state, config.target ?? {});
}

export function summarize(plan: BudgetPlan): PlanStepSummary[] {
  return plan.steps.map((s) => ({
    method: s.method,
    family: s.family,
    amount: s.amount,
    noop: s.noop,
    knobs: s.knobs,
    paramsAfter: s.paramsAfter,
    weightBytesAfter: s.weightBytesAfter,
    nonzerosAfter: s.nonzerosAfter,
    ratioAfter:
      plan.unit === 'bytes'
        ? plan.weightBytesBefore === 0
          ? 0
          : 1 - s.weightBytesAfter / plan.weightBytesBefore
        : plan.paramsBefore === 0
          ? 0
          : 1 - s.paramsAfter / plan.paramsBefore,
  }));
}

export function planFromSpec(
  config: PipelineConfig,
  spec: ModelSpec,
  dtype: string,
  model = config.model,
): PipelinePlan {
  const state = stateFromSpec(spec, dtypeBytes(exportDtype(config, dtype)));
  const plan = budgetFor(config, state);
  let problem: string | null = null;
  try {
    assertReachable(plan);
  } catch (e) {
    problem = e instanceof EngineError ? `${e.message}; ${e.hint ?? ''}`.trim() : String(e);
  }
  return {
    model,
    architecture: spec.modelType,
    paramsBefore: plan.paramsBefore,
    paramsAfter: plan.paramsAfter,
    weightBytesBefore: plan.weightBytesBefore,
    weightBytesAfter: plan.weightBytesAfter,
    nonzerosBefore: plan.nonzerosBefore,
    nonzerosAfter: plan.nonzerosAfter,
    unit: plan.unit,
    achievedRatio: plan.achievedRatio,
    targetRatio: plan.targetRatio,
    tolerance: plan.tolerance,
    problem,
    steps: summarize(plan),
  };
}

/** Plan a resolved config against a model folder (shapes only). */
export function planPipeline(config: PipelineConfig, modelDir: string): PipelinePlan {
  const { spec } = loadModelSpec(modelDir);
  return planFromSpec(config, spec, checkpointDtype(modelDir));
}
