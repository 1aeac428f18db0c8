// The whole-model budget of a pipeline: `target.ratio`, split between the budget-driven steps by
// one contribution per family letter (`target.contributions`, summing to 1; equal shares when
// unset). Pure: the Budget panel's sliders and the step edits go through these functions.
import type { MethodFamily } from '@contract';

export const FAMILY_NAMES: Record<MethodFamily, string> = {
  P: 'expert pruning',
  M: 'expert merging',
  D: 'low-rank decomposition',
  T: 'layer / block trimming',
  S: 'sparsity',
  Q: 'quantization',
};

export const familyName = (f: string): string => FAMILY_NAMES[f as MethodFamily] ?? `family ${f}`;

type Obj = Record<string, unknown>;
export type Shares = Record<string, number>;

const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};

/** Decimal places kept in a written share (the engine allows 1e-9 of slack in the sum). */
const PLACES = 4;
const round = (x: number) => Number(x.toFixed(PLACES));

/** The contributions written in the config (numbers only), or null when there are none. */
export function contributionsOf(config: unknown): Shares | null {
  const c = asObj(asObj(asObj(config).target).contributions);
  const out: Shares = {};
  for (const [k, v] of Object.entries(c)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return Object.keys(out).length ? out : null;
}

export function equalShares(families: readonly string[]): Shares {
  const fams = [...new Set(families)];
  return exactSum(Object.fromEntries(fams.map((f) => [f, 1 / fams.length])), fams);
}

/** The shares the solver will use for these families: the written ones (missing = 0), else equal. */
export function effectiveShares(config: unknown, families: readonly string[]): Shares {
  const written = contributionsOf(config);
  if (!written) return equalShares(families);
  return Object.fromEntries([...new Set(families)].map((f) => [f, written[f] ?? 0]));
}

export const sumOf = (s: Shares): number => Object.values(s).reduce((a, b) => a + b, 0);

/** Round every share, and let the last one take what makes the sum exactly 1. */
function exactSum(s: Shares, order: readonly string[]): Shares {
  if (order.length === 0) return {};
  const out: Shares = {};
  let rest = 1;
  order.forEach((f, i) => {
    const v =
      i === order.length - 1 ? Math.max(0, round(rest)) : round(Math.min(rest, Math.max(0, s[f] ?? 0)));
    out[f] = v;
    rest -= v;
  });
  return out;
}

/**
 * One family's share set to `value` (clamped to [0, 1]); the other families share the rest in
 * proportion to their current shares, or equally when they have none. The result sums to 1.
 */
export function setShare(
  current: Shares,
  families: readonly string[],
  family: string,
  value: number,
): Shares {
  const fams = [...new Set(families)];
  if (!fams.includes(family)) return exactSum(current, fams);
  if (fams.length === 1) return { [family]: 1 };
  const v = round(Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)));
  const others = fams.filter((f) => f !== family);
  const otherSum = others.reduce((a, f) => a + Math.max(0, current[f] ?? 0), 0);
  const next: Shares = { [family]: v };
  for (const f of others)
    next[f] = otherSum > 0 ? ((1 - v) * Math.max(0, current[f] ?? 0)) / otherSum : (1 - v) / others.length;
  // the moved slider keeps its value exactly; the last of the others absorbs the rounding
  return exactSum(next, [family, ...others]);
}

/**
 * After the steps changed (families before → after): drop the contributions of families no step
 * has any more, give a family that just appeared an equal share, and rescale so the sum stays 1.
 * A config without contributions (equal shares) is left alone.
 */
export function syncContributions(config: Obj, before: readonly string[], after: readonly string[]): Obj {
  const written = contributionsOf(config);
  if (!written) return config;
  const present = [...new Set(after)];
  const kept = Object.keys(written).filter((f) => present.includes(f));
  const added = present.filter((f) => !before.includes(f) && !kept.includes(f));
  const target = { ...asObj(config.target) };
  const families = [...kept, ...added];
  if (families.length === 0) {
    delete target.contributions;
    return { ...config, target };
  }
  const share = added.length ? 1 / families.length : 0;
  const keptSum = kept.reduce((a, f) => a + written[f]!, 0);
  const scaled: Shares = {};
  for (const f of kept)
    scaled[f] =
      keptSum > 0
        ? (written[f]! / keptSum) * (1 - share * added.length)
        : (1 - share * added.length) / kept.length;
  for (const f of added) scaled[f] = share;
  target.contributions = exactSum(scaled, families);
  return { ...config, target };
}
