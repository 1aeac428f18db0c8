// Expansion of a sweep spec into concrete runs: orders × contribution points × ratios × parameter
// values, each a resolved pipeline config with its hash. Duplicates (same hash) are listed once.
// Shapes and schemas only: no model is read here (the plan of each point is `planSweep`'s job).
import { EngineError } from '../engine/errors';
import { getMethod } from '../engine/methods/catalog';
import type { Family } from '../engine/methods/method';
import { type PipelineConfig, parsePipelineConfig, type StepConfig } from '../engine/pipeline/config';
import { configHash } from './config-hash';
import { type GridContributions, isGrid, MAX_SWEEP_RUNS, type SweepSpec } from './sweep-spec';

export interface SweepPoint {
  /** position in the expansion (stable for a spec) */
  index: number;
  hash: string;
  ratio: number;
  /** share per family letter of this point's steps (sums to 1) */
  contributions: Partial<Record<Family, number>>;
  /** family letters in execution order */
  order: Family[];
  /** the varied method parameters of this point, keyed FAMILY.param */
  params: Record<string, unknown>;
  label: string;
  config: PipelineConfig;
}

const EPS = 1e-9;
/** values on a 1e-9 grid, so 0.1 + 0.2 is 0.3 and the remainder 1 − 0.7 − 0.3 is exactly 0 */
const snap = (x: number) => Math.round(x / EPS) * EPS;
const round = (x: number) => Number(snap(x).toFixed(9));

/** The grid values of one share: start, start + step, … below 1. */
export function gridValues(g: GridContributions): number[] {
  const start = g.start ?? g.step;
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const v = round(start + k * g.step);
    if (v >= 1 - EPS) break;
    out.push(v);
  }
  return out;
}

/**
 * Contribution points over `families` (their order fixes which one takes the remainder: the last).
 * Grid: every family but the last takes a grid value, the last the remainder; points with a zero or
 * negative share are skipped. Lists: the product of the given values, the family left out (at most
 * one) taking the remainder; points that do not sum to 1 or have a negative share are skipped.
 */
export function contributionPoints(
  families: readonly Family[],
  axis: SweepSpec['axes']['contributions'],
): Partial<Record<Family, number>>[] {
  if (families.length === 0) return [{}];
  if (axis === undefined) {
    const share = round(1 / families.length);
    return [
      Object.fromEntries(
        families.map((f, i) => [
          f,
          i === families.length - 1 ? round(1 - share * (families.length - 1)) : share,
        ]),
      ),
    ];
  }
  if (families.length === 1) return [{ [families[0]!]: 1 }];
  const lists: number[][] = [];
  let free: Family | null = null;
  if (isGrid(axis)) {
    const values = gridValues(axis);
    for (let i = 0; i < families.length - 1; i++) lists.push(values);
    free = families[families.length - 1]!;
  } else {
    const missing = families.filter((f) => axis[f] === undefined);
    if (missing.length > 1)
      throw new EngineError(
        `axes.contributions gives no values for ${missing.join(' and ')}; at most one family may be left out (it takes the remainder)`,
        { field: 'axes.contributions' },
      );
    free = missing[0] ?? null;
    for (const f of families) if (f !== free) lists.push(axis[f]!);
  }
  const fixed = families.filter((f) => f !== free);
  const out: Partial<Record<Family, number>>[] = [];
  const walk = (i: number, acc: number[]) => {
    if (i === fixed.length) {
      const sum = acc.reduce((a, b) => a + b, 0);
      const point: Partial<Record<Family, number>> = {};
      fixed.forEach((f, k) => {
        point[f] = acc[k]!;
      });
      if (free) {
        const rest = round(1 - sum);
        if (rest <= EPS) return;
        point[free] = rest;
      } else if (Math.abs(sum - 1) > 1e-6) return;
      if (Object.values(point).some((v) => v! <= EPS)) return;
      out.push(Object.fromEntries(families.map((f) => [f, point[f]!])));
      return;
    }
    for (const v of lists[i]!) walk(i + 1, [...acc, v]);
  };
  walk(0, []);
  return out;
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

function product(axes: [string, unknown[]][]): Record<string, unknown>[] {
  return axes.reduce<Record<string, unknown>[]>(
    (acc, [k, vs]) => acc.flatMap((a) => vs.map((v) => ({ ...a, [k]: v }))),
    [{}],
  );
}

const arrow = (order: readonly Family[]) => order.join('→');
const share = (c: Partial<Record<Family, number>>) =>
  Object.entries(c)
    .map(([f, v]) => `${f}${Number(v!.toFixed(4))}`)
    .join('/');

/** Every concrete run of a spec (unique by hash, in expansion order). */
export function expandSweep(spec: SweepSpec, file?: string): SweepPoint[] {
  const base = parsePipelineConfig(spec.base, file);
  const stepOf = new Map<Family, StepConfig>();
  const baseFamilies: Family[] = [];
  for (const [i, s] of base.steps.entries()) {
    const f = getMethod(s.method, `base.steps.${i}.method`).family;
    if (stepOf.has(f) && spec.axes.orders !== undefined)
      throw new EngineError(
        `base.steps: two steps of family ${f}; a sweep over orders needs one step per family letter`,
        { field: 'base.steps', ...(file ? { file } : {}) },
      );
    if (!stepOf.has(f)) stepOf.set(f, s);
    baseFamilies.push(f);
  }
  const orders: Family[][] =
    spec.axes.orders === undefined
      ? [baseFamilies]
      : spec.axes.orders === 'permutations'
        ? permutations(baseFamilies)
        : spec.axes.orders.map((o, i) => {
            const bad = o.find((f) => !stepOf.has(f));
            if (bad)
              throw new EngineError(
                `axes.orders.${i}: family ${bad} has no step in the base pipeline (it has ${baseFamilies.join(', ')})`,
                { field: `axes.orders.${i}`, ...(file ? { file } : {}) },
              );
            if (new Set(o).size !== o.length)
              throw new EngineError(`axes.orders.${i}: ${o.join(', ')} repeats a family`, {
                field: `axes.orders.${i}`,
              });
            return o;
          });
  const paramAxes = Object.entries(spec.axes.params ?? {});
  for (const [key] of paramAxes) {
    const f = key.split('.')[0] as Family;
    if (!stepOf.has(f))
      throw new EngineError(`axes.params.${key}: family ${f} has no step in the base pipeline`, {
        field: `axes.params.${key}`,
      });
  }

  const points: SweepPoint[] = [];
  const seen = new Set<string>();
  let expanded = 0;
  for (const order of orders) {
    // shares are over the families in base order, so A→B and B→A meet at the same point
    const families = baseFamilies.filter((f) => order.includes(f));
    const contributions = contributionPoints(families, spec.axes.contributions);
    const params = product(paramAxes.filter(([k]) => order.includes(k.split('.')[0] as Family)));
    for (const c of contributions)
      for (const ratio of spec.axes.ratio)
        for (const pv of params) {
          if (++expanded > MAX_SWEEP_RUNS)
            throw new EngineError(`the sweep expands to more than ${MAX_SWEEP_RUNS} runs; narrow its axes`, {
              field: 'axes',
            });
          const steps = order.map((f) => {
            const s = stepOf.get(f)!;
            const over = Object.fromEntries(
              Object.entries(pv)
                .filter(([k]) => k.startsWith(`${f}.`))
                .map(([k, v]) => [k.slice(2), v]),
            );
            return { method: s.method, params: { ...s.params, ...over } };
          });
          const label = `r${ratio} ${arrow(order)} ${share(c)}${
            Object.keys(pv).length
              ? ` ${Object.entries(pv)
                  .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                  .join(' ')}`
              : ''
          }`;
          const config = parsePipelineConfig(
            {
              ...base,
              name: `${spec.name} · ${label}`.slice(0, 200),
              target: { ...(base.target ?? {}), ratio, ...(families.length ? { contributions: c } : {}) },
              steps,
            },
            file,
          );
          const hash = configHash(config);
          if (seen.has(hash)) continue;
          seen.add(hash);
          points.push({
            index: points.length,
            hash,
            ratio,
            contributions: c,
            order,
            params: pv,
            label,
            config,
          });
        }
  }
  return points;
}
