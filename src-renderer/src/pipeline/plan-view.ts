// The live plan (`pipelines.plan`) as the editor shows it: per step how its amount is decided, its
// knob values, params and ratio after; issue messages without the path they are already shown at.
import type { ConfigIssue, PipelinePlan, PlanStep, PlanStepAmount } from '@contract';
import { familyName } from './budget';

const pct = (v: number, digits = 1) => `${(v * 100).toFixed(digits)}%`;

/** `{rank: 41, layers: 2}` → "rank 41 · layers 2"; empty → "unchanged". */
export function knobText(knobs: Readonly<Record<string, number>>): string {
  const parts = Object.entries(knobs).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(' · ') : 'unchanged';
}

export function amountText(a: PlanStepAmount): string {
  switch (a.kind) {
    case 'share':
      return `budget share ${pct(a.contribution ?? 0, 0)}${a.family ? ` (${a.family}, ${familyName(a.family)})` : ''}`;
    case 'ratio':
      return `own ratio ${pct(a.ratio ?? 0, 0)}`;
    default:
      return 'fixed by its params';
  }
}

/** The short line a step's graph node shows under its summary. */
export function stepPlanLine(s: PlanStep): string {
  return s.noop ? 'no-op (budget already met)' : `${knobText(s.knobs)} → ${pct(s.ratioAfter)}`;
}

export interface PlanTotals {
  paramsBefore: number;
  paramsAfter: number;
  achieved: number;
  target: number | null;
  /** |achieved − target| within what the integer knobs explain */
  onTarget: boolean | null;
}

export function planTotals(plan: PipelinePlan): PlanTotals {
  return {
    paramsBefore: plan.paramsBefore,
    paramsAfter: plan.paramsAfter,
    achieved: plan.achievedRatio,
    target: plan.targetRatio,
    onTarget:
      plan.targetRatio === null
        ? null
        : Math.abs(plan.targetRatio - plan.achievedRatio) <= plan.tolerance + 1e-12,
  };
}

/** An issue's message without a leading `<path>: ` (the editor shows it at that path already). */
export function issueText(i: ConfigIssue): string {
  return i.path && i.message.startsWith(`${i.path}: `) ? i.message.slice(i.path.length + 2) : i.message;
}

/** The plan's problem without the field prefix the engine puts on it. */
export function problemText(problem: string): string {
  return problem.replace(/^[\w.]+: /, '');
}
