// Whole-model budget split between steps (METHODS §2.2, generic any-order solver). Walk the steps in
// execution order with a cumulative contribution; each budget-driven step X gets the target
// t = (1 − a·cum_X)·T and the integer knob whose resulting parameter count is closest to t (the two
// integers bracketing the real solution, the smaller knob on a tie — §2.2's floor/ceil/round rule).
// A step whose target would add parameters is a no-op. The same code plans from shapes
// (`moe-bench plan`) and re-solves each step on the actual state while a run goes on.
import { EngineError } from '../errors';
import type { AnyMethodDeclaration, Family } from '../methods/method';
import { type ModelPlanState, stateNonzeros, stateParams, stateWeightBytes } from './plan-state';

/** What a budget ratio counts: parameters (default) or weight bytes as exported (S/Q storage included). */
export type BudgetUnit = 'params' | 'bytes';

export interface BudgetTarget {
  ratio?: number | undefined;
  contributions?: Partial<Record<Family, number>> | undefined;
  unit?: BudgetUnit | undefined;
}

/** The quantity a budget in `unit` constrains, of a state. */
export function budgetMeasure(unit: BudgetUnit | undefined): (s: ModelPlanState) => number {
  return unit === 'bytes' ? stateWeightBytes : stateParams;
}

export interface StepInput {
  decl: AnyMethodDeclaration;
  params: unknown;
}

/** How a step's amount is decided: by its params, by its own whole-model ratio, or by the budget share. */
export type StepAmount =
  | { kind: 'fixed' }
  | { kind: 'ratio'; ratio: number }
  | { kind: 'share'; family: Family; contribution: number };

export interface PlannedStep {
  method: string;
  family: Family;
  amount: StepAmount;
  /** target of the step in the budget's unit, parameters or bytes (null for fixed knobs) */
  targetParams: number | null;
  noop: boolean;
  knobs: Record<string, number>;
  /** the knob sits at a bound of its range while the target lay beyond it */
  clamped: boolean;
  paramsAfter: number;
  weightBytesAfter: number;
  /** params minus the entries slimming zeroed */
  nonzerosAfter: number;
  state: ModelPlanState;
}

export interface BudgetPlan {
  /** what targetRatio/achievedRatio count */
  unit: BudgetUnit;
  paramsBefore: number;
  weightBytesBefore: number;
  paramsAfter: number;
  weightBytesAfter: number;
  nonzerosBefore: number;
  nonzerosAfter: number;
  achievedRatio: number;
  targetRatio: number | null;
  /** largest |achieved − target| the integer knobs explain; beyond it the target is unreachable */
  tolerance: number;
  steps: PlannedStep[];
}

const CONTRIBUTION_EPS = 1e-9;

const ownRatio = (s: StepInput) => (s.params as { ratio?: number } | null)?.ratio;

/** A step takes its amount from the budget when its params set neither a knob nor its own ratio. */
export function isBudgetDriven(s: StepInput, state: ModelPlanState): boolean {
  return s.decl.knob.fixed(s.params, state) === null && ownRatio(s) === undefined;
}

/** The single rule for a step's amount: explicit knob > the step's own `ratio` > its budget share. */
export function stepAmounts(
  steps: readonly StepInput[],
  state: ModelPlanState,
  target: BudgetTarget,
): StepAmount[] {
  const budgeted = steps.map((s, i) => ({ s, i })).filter(({ s }) => isBudgetDriven(s, state));
  const families = budgeted.map(({ s }) => s.decl.family);
  const out: StepAmount[] = steps.map((s) => {
    const r = ownRatio(s);
    return r !== undefined ? { kind: 'ratio', ratio: r } : { kind: 'fixed' };
  });
  if (budgeted.length === 0) {
    if (target.contributions && Object.keys(target.contributions).length > 0)
      throw new EngineError('target.contributions is set but no step takes its amount from the budget', {
        field: 'target.contributions',
        hint: 'remove explicit knobs (rank, count, ratio) from the steps, or remove contributions',
      });
    return out;
  }
  if (target.ratio === undefined) {
    const { s, i } = budgeted[0]!;
    throw new EngineError(`step ${i} (${s.decl.id}) has no compression amount`, {
      field: 'target.ratio',
      hint: `set target.ratio, or an explicit amount in steps.${i}.params`,
    });
  }
  const dup = families.find((f, i) => families.indexOf(f) !== i);
  if (dup)
    throw new EngineError(
      `two budget-driven steps belong to family ${dup}; contributions are per family, so give one of them an explicit amount`,
      { field: 'target.contributions' },
    );
  let contributions: Partial<Record<Family, number>>;
  if (target.contributions && Object.keys(target.contributions).length > 0) {
    contributions = target.contributions;
    for (const k of Object.keys(contributions) as Family[]) {
      if (!families.includes(k))
        throw new EngineError(
          `contribution for family ${k}, but no budget-driven step is of that family (steps: ${families.join(', ')})`,
          { field: `target.contributions.${k}` },
        );
    }
    for (const f of families) {
      if (contributions[f] === undefined)
        throw new EngineError(`no contribution for family ${f}; give every budget-driven family a share`, {
          field: `target.contributions.${f}`,
        });
    }
    const sum = families.reduce((a, f) => a + contributions[f]!, 0);
    if (Math.abs(sum - 1) > CONTRIBUTION_EPS)
      throw new EngineError(
        `contributions sum to ${+sum.toFixed(12)}, they must sum to 1 (${families.map((f) => `${f}=${contributions[f]}`).join(', ')})`,
        { field: 'target.contributions' },
      );
  } else {
    contributions = Object.fromEntries(families.map((f) => [f, 1 / families.length]));
  }
  for (const { s, i } of budgeted)
    out[i] = { kind: 'share', family: s.decl.family, contribution: contributions[s.decl.family]! };
  return out;
}

/** Integer knob in [lo, hi] whose state's params are closest to t (f monotone in k; tie → smaller k). */
export function searchKnob(
  f: (k: number) => number,
  lo: number,
  hi: number,
  t: number,
): { k: number; clamped: boolean } {
  const inc = f(hi) >= f(lo);
  const ok = (k: number) => (inc ? f(k) <= t : f(k) >= t);
  let a = lo;
  let b = hi;
  let best = lo - 1;
  while (a <= b) {
    const m = Math.floor((a + b) / 2);
    if (ok(m)) {
      best = m;
      a = m + 1;
    } else b = m - 1;
  }
  if (best < lo) return { k: lo, clamped: Math.abs(f(lo) - t) > 0.5 && (inc ? f(lo) > t : f(lo) < t) };
  if (best >= hi) return { k: hi, clamped: Math.abs(f(hi) - t) > 0.5 };
  const d0 = Math.abs(f(best) - t);
  const d1 = Math.abs(f(best + 1) - t);
  return { k: d1 < d0 ? best + 1 : best, clamped: false };
}

/** Solve one step on the given state. */
export function solveStep(
  input: StepInput,
  amount: StepAmount,
  state: ModelPlanState,
  T: number,
  cum: number,
  totalRatio: number | null,
  index = 0,
  unit: BudgetUnit = 'params',
): PlannedStep {
  const { decl, params } = input;
  const measure = budgetMeasure(unit);
  const knob = decl.knob;
  const done = (
    knobs: Record<string, number>,
    s: ModelPlanState,
    targetParams: number | null,
    noop: boolean,
    clamped: boolean,
  ): PlannedStep => ({
    method: decl.id,
    family: decl.family,
    amount,
    targetParams,
    noop,
    knobs,
    clamped,
    paramsAfter: stateParams(s),
    weightBytesAfter: stateWeightBytes(s),
    nonzerosAfter: stateNonzeros(s),
    state: s,
  });
  const why = decl.check?.(params, state);
  if (why) throw new EngineError(`${decl.id}: ${why}`, { field: `steps.${index}` });
  const fixed = knob.fixed(params, state);
  if (fixed !== null) {
    const [lo, hi] = knob.range(params, state);
    if (fixed < lo || fixed > hi)
      throw new EngineError(
        `${decl.id}: ${knob.name} ${fixed} is outside what this model allows, [${lo}, ${hi}]`,
        {
          field: `steps.${index}.params`,
        },
      );
    const s = knob.apply(params, state, fixed);
    // a "compression" that stores more than it replaces (a rank past the break-even) is refused,
    // not run to report a negative ratio
    if (stateParams(s) > stateParams(state))
      throw new EngineError(
        `${decl.id}: ${knob.name} ${fixed} makes the model larger (${stateParams(state)} → ${stateParams(s)} parameters)`,
        {
          field: `steps.${index}.params.${knob.name}`,
          hint: `choose a smaller ${knob.name}, or give a ratio instead`,
        },
      );
    return done(
      { [knob.name]: fixed, ...(knob.describe?.(params, state, fixed) ?? {}) },
      s,
      null,
      false,
      false,
    );
  }
  const ratio = amount.kind === 'ratio' ? amount.ratio : (totalRatio ?? 0) * cum;
  const t = (1 - ratio) * T;
  const cur = measure(state);
  if (Math.abs(t - cur) <= 0.5 || t > cur + 0.5) return done({}, state, t, true, false);
  // a closed-form solve is in parameters; a bytes budget searches the knob instead
  if (knob.solve && unit === 'params') {
    const r = knob.solve(params, state, t);
    return done(r.knobs, r.state, t, false, false);
  }
  const [lo, hi] = knob.range(params, state);
  if (lo > hi) return done({}, state, t, true, true);
  const f = (k: number) => measure(knob.apply(params, state, k));
  const { k, clamped } = searchKnob(f, lo, hi, t);
  const s = knob.apply(params, state, k);
  return done({ [knob.name]: k, ...(knob.describe?.(params, state, k) ?? {}) }, s, t, false, clamped);
}

/** Plan every step from shapes: the knobs, the parameters and weight bytes after each step. */
export function planBudget(
  steps: readonly StepInput[],
  state0: ModelPlanState,
  target: BudgetTarget,
): BudgetPlan {
  const unit = target.unit ?? 'params';
  const measure = budgetMeasure(unit);
  const T = measure(state0);
  const amounts = stepAmounts(steps, state0, target);
  let state = state0;
  let cum = 0;
  const planned: PlannedStep[] = [];
  steps.forEach((s, i) => {
    const a = amounts[i]!;
    if (a.kind === 'share') cum += a.contribution;
    const p = solveStep(s, a, state, T, cum, target.ratio ?? null, i, unit);
    planned.push(p);
    state = p.state;
  });
  const after = measure(state);
  const achieved = T === 0 ? 0 : 1 - after / T;
  const last = [...planned].reverse().find((p) => !p.noop && p.targetParams !== null);
  const step = last
    ? knobUnit(steps[planned.indexOf(last)]!, planned, planned.indexOf(last), state0, measure)
    : 0;
  return {
    unit,
    paramsBefore: stateParams(state0),
    weightBytesBefore: stateWeightBytes(state0),
    paramsAfter: stateParams(state),
    weightBytesAfter: stateWeightBytes(state),
    nonzerosBefore: stateNonzeros(state0),
    nonzerosAfter: stateNonzeros(state),
    achievedRatio: achieved,
    targetRatio: finalTarget(steps, amounts, target),
    tolerance: Math.max(1e-6, T === 0 ? 0 : step / T),
    steps: planned,
  };
}

/** What the whole pipeline aims at: the last step's own ratio or the budget's total. */
function finalTarget(
  steps: readonly StepInput[],
  amounts: StepAmount[],
  target: BudgetTarget,
): number | null {
  if (amounts.some((a) => a.kind === 'share')) return target.ratio ?? null;
  for (let i = steps.length - 1; i >= 0; i--) {
    const a = amounts[i]!;
    if (a.kind === 'ratio') return a.ratio;
  }
  return null;
}

/** Parameter change of one knob unit of a planned step (its rounding granularity). */
function knobUnit(
  input: StepInput,
  planned: PlannedStep[],
  i: number,
  state0: ModelPlanState,
  measure: (s: ModelPlanState) => number,
): number {
  const before = i === 0 ? state0 : planned[i - 1]!.state;
  const k = planned[i]!.knobs[input.decl.knob.name];
  if (k === undefined) return 0;
  const [lo, hi] = input.decl.knob.range(input.params, before);
  const f = (x: number) => measure(input.decl.knob.apply(input.params, before, x));
  const n = k < hi ? k + 1 : k > lo ? k - 1 : k;
  return Math.abs(f(n) - f(k));
}

/** Refuse a plan that misses its target by more than its rounding explains, naming what limits it. */
export function assertReachable(plan: BudgetPlan): void {
  if (plan.targetRatio === null) return;
  const gap = plan.targetRatio - plan.achievedRatio;
  if (Math.abs(gap) <= plan.tolerance + 1e-12) return;
  const limit = plan.steps.find((s) => s.clamped) ?? [...plan.steps].reverse().find((s) => !s.noop);
  throw new EngineError(
    `the plan reaches a whole-model ${plan.unit === 'bytes' ? 'weight-bytes ' : ''}ratio of ${plan.achievedRatio.toFixed(4)}, not the target ${plan.targetRatio}${
      limit
        ? `: ${limit.method} ${limit.clamped ? 'hits the bound of its knob' : 'stops'} at ${Object.entries(
            limit.knobs,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`
        : ''
    }`,
    {
      field: 'target.ratio',
      hint: `the reachable ratio with these steps is ${plan.achievedRatio.toFixed(4)}; lower target.ratio, change the contributions, or add a step`,
    },
  );
}
