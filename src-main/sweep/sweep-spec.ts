// A sweep: one base pipeline and the axes it is varied along (METHODS §2.2 grid, §2.9 surfaces).
// Parsed once at the boundary (CLI file, UI request); everything downstream takes the typed spec.
// No tfjs: the main process validates and expands sweeps.
import { z } from 'zod';
import { EngineError } from '../engine/errors';
import { FAMILIES, type Family } from '../engine/methods/method';

const Ratio = z.number().min(0).lt(1);
const FamilyLetter = z.enum(FAMILIES);

const GridContributions = z
  .object({
    step: z.number().gt(0).max(1).describe('grid spacing of every share'),
    start: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        'first grid value (default: step); the reference ratio sweep uses start 0.1, step 0.2 (docs/sweeps.md)',
      ),
  })
  .strict()
  .describe(
    'shares on a simplex grid over the base pipeline’s families in step order: every family but the last takes start, start+step, …; the last takes the remainder; a zero or negative remainder is skipped',
  );

const ListedContributions = z
  .partialRecord(FamilyLetter, z.array(z.number().min(0).max(1)).min(1).max(64))
  .describe(
    'explicit share values per family letter; every combination is a point, kept when the shares sum to 1 (a family left out takes the remainder)',
  );

export const SweepAxes = z
  .object({
    ratio: z.array(Ratio).min(1).max(64).describe('whole-model compression ratios'),
    contributions: z.union([GridContributions, ListedContributions]).optional(),
    orders: z
      .union([z.literal('permutations'), z.array(z.array(FamilyLetter).min(1).max(8)).min(1).max(720)])
      .optional()
      .describe(
        "'permutations' = every order of the base pipeline's steps, or explicit family sequences; default: the base order",
      ),
    params: z
      .record(
        z.string().regex(/^[PMDTSQ]\.[A-Za-z][\w]*$/, 'keys are FAMILY.param, e.g. "P.metric"'),
        z.array(z.unknown()).min(1).max(64),
      )
      .optional()
      .describe(
        'method parameters to vary, keyed FAMILY.param ("P.metric": ["reap", "activation_frequency"])',
      ),
  })
  .strict();

export const SweepSpec = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    name: z.string().min(1).max(200),
    base: z.record(z.string(), z.unknown()).describe('a pipeline config (docs/pipeline-config.md)'),
    axes: SweepAxes,
  })
  .strict();
export type SweepSpec = z.output<typeof SweepSpec>;
export type SweepAxes = z.output<typeof SweepAxes>;
export type GridContributions = z.output<typeof GridContributions>;

/** At most this many runs in one sweep (a spec that expands further is refused before anything runs). */
export const MAX_SWEEP_RUNS = 5000;

export function isGrid(c: SweepAxes['contributions']): c is GridContributions {
  return c !== undefined && 'step' in c;
}

export function familiesOf(letters: readonly string[]): Family[] {
  return letters.filter((l): l is Family => (FAMILIES as readonly string[]).includes(l));
}

/** Parse a sweep spec, or throw one EngineError listing every problem (field, value, what is allowed). */
export function parseSweepSpec(raw: unknown, file?: string): SweepSpec {
  const r = SweepSpec.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const field = i.path.map(String).join('.') || 'the sweep spec';
    let v: unknown = raw;
    for (const k of i.path)
      v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
    const shown = v === undefined ? 'nothing' : JSON.stringify(v);
    switch (i.code) {
      case 'invalid_type':
        return v === undefined
          ? `${field} is required (${i.expected})`
          : `${field}: expected ${i.expected}, got ${shown}`;
      case 'too_big':
        return `${field}: ${shown} is too large; at most ${i.maximum}${i.inclusive === false ? ' (exclusive)' : ''}`;
      case 'too_small':
        return `${field}: ${shown} is too small; at least ${i.minimum}${i.inclusive === false ? ' (exclusive)' : ''}`;
      case 'unrecognized_keys':
        return `${field}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      case 'invalid_value':
        return `${field}: ${shown} is not allowed; allowed: ${(i.values as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
      case 'invalid_key':
        return `${field}: the key ${JSON.stringify(i.path.at(-1))} is not FAMILY.param (for example "P.metric")`;
      case 'invalid_union':
        return `${field}: ${shown} is neither a grid {step, start} nor share lists per family letter (${FAMILIES.join(', ')})`;
      default:
        return `${field}: ${i.message}`;
    }
  });
  throw new EngineError(
    `invalid sweep spec (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${problems.join('; ')}`,
    {
      ...(file ? { file } : {}),
      field: r.error.issues[0]!.path.map(String).join('.') || '(root)',
      hint: 'docs/sweeps.md describes every field',
    },
  );
}
