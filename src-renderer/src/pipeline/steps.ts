// Step edits on a pipeline config (pure): add, remove, reorder, change a step's method. Every edit
// returns a new config whose JSON text the editor writes back, so the graph (derived from the
// config) and the Monaco view (the text) always show the same steps. A multi-step config is
// version 2; contributions follow the families that are present.

import { syncContributions } from './budget';
import type { StageId } from './pipeline-nodes';

type Obj = Record<string, unknown>;
export type FamilyOf = (method: string) => string | undefined;

export interface StepConfig {
  method: string;
  params: Obj;
}

const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};

export function stepsOf(config: unknown): unknown[] {
  const s = asObj(config).steps;
  return Array.isArray(s) ? s : [];
}

export function stepMethod(step: unknown): string | undefined {
  const m = asObj(step).method;
  return typeof m === 'string' ? m : undefined;
}

/** Slimming and quantization set their amount in their params (sparsity, bits): never a budget share. */
const FIXED_FAMILIES = new Set(['S', 'Q']);

function families(steps: readonly unknown[], familyOf: FamilyOf): string[] {
  return steps
    .map((s) => familyOf(stepMethod(s) ?? ''))
    .filter((f): f is string => f !== undefined && !FIXED_FAMILIES.has(f));
}

/** The config with new steps: version 2, contributions in step with the families present. */
export function withSteps(config: Obj, steps: unknown[], familyOf: FamilyOf): Obj {
  const next = { ...config, version: 2, steps };
  return syncContributions(next, families(stepsOf(config), familyOf), families(steps, familyOf));
}

/** A new step running `method` with default params, inserted at `index` (clamped). */
export function addStep(config: Obj, index: number, method: string, familyOf: FamilyOf): Obj {
  const steps = [...stepsOf(config)];
  const at = Math.max(0, Math.min(steps.length, index));
  steps.splice(at, 0, { method, params: {} } satisfies StepConfig);
  return withSteps(config, steps, familyOf);
}

export function removeStep(config: Obj, index: number, familyOf: FamilyOf): Obj {
  const steps = stepsOf(config);
  if (index < 0 || index >= steps.length) return config;
  return withSteps(
    config,
    steps.filter((_, i) => i !== index),
    familyOf,
  );
}

/** Move a step from one position to another (both clamped); the others keep their order. */
export function moveStep(config: Obj, from: number, to: number): Obj {
  const steps = [...stepsOf(config)];
  if (from < 0 || from >= steps.length) return config;
  const dest = Math.max(0, Math.min(steps.length - 1, to));
  if (dest === from) return config;
  const [s] = steps.splice(from, 1);
  steps.splice(dest, 0, s);
  return { ...config, version: 2, steps };
}

/** A step switched to another method starts from that method's defaults. */
export function setStepMethod(config: Obj, index: number, method: string, familyOf: FamilyOf): Obj {
  const steps = [...stepsOf(config)];
  if (index < 0 || index >= steps.length) return config;
  if (stepMethod(steps[index]) === method) return config;
  steps[index] = { method, params: {} } satisfies StepConfig;
  return withSteps(config, steps, familyOf);
}

/** Where the selected stage is after a move: a moved step stays selected, its neighbours shift. */
export function stageAfterMove(selected: StageId, from: number, to: number): StageId {
  const m = /^step-(\d+)$/.exec(selected);
  if (!m) return selected;
  const i = Number(m[1]);
  if (i === from) return `step-${to}`;
  if (from < i && to >= i) return `step-${i - 1}`;
  if (from > i && to <= i) return `step-${i + 1}`;
  return selected;
}

/** Where the selected stage is after step `removed` is gone. */
export function stageAfterRemove(selected: StageId, removed: number, remaining: number): StageId {
  const m = /^step-(\d+)$/.exec(selected);
  if (!m) return selected;
  const i = Number(m[1]);
  if (i < removed) return selected;
  if (remaining === 0) return 'model';
  return `step-${Math.min(i === removed ? removed : i - 1, remaining - 1)}`;
}
