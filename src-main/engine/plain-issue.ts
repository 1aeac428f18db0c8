// One validation problem as a plain sentence: the field, the value given and what is allowed
// ("num_local_experts: expected a number, got "8""), not the schema library's own phrasing
// ("Invalid input: expected number, received string", "Too big", "Invalid discriminator value").
import type { z } from 'zod';

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

const A: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  int: 'an integer',
  nan: 'a number',
};

/** The field (dotted path, `root` for the whole input) and what is wrong with its value. */
export function plainIssueParts(
  i: z.core.$ZodIssue,
  raw: unknown,
  root = 'the input',
): { field: string; text: string } {
  const field = i.path.map(String).join('.') || root;
  const value = valueAt(raw, i.path);
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  const text = (() => {
    switch (i.code) {
      case 'invalid_type':
        return value === undefined
          ? `missing; expected ${A[i.expected] ?? i.expected}`
          : `expected ${A[i.expected] ?? i.expected}, got ${shown}`;
      case 'too_big':
        return `${shown} is too large; at most ${String(i.maximum)}${i.inclusive === false ? ' (exclusive)' : ''}`;
      case 'too_small':
        return `${shown} is too small; at least ${String(i.minimum)}${i.inclusive === false ? ' (exclusive)' : ''}`;
      case 'invalid_value':
        return `${shown} is not allowed; allowed: ${i.values.map((x) => JSON.stringify(x)).join(', ')}`;
      case 'unrecognized_keys':
        return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      case 'invalid_union':
        return `${shown} matches none of the allowed forms`;
      case 'not_multiple_of':
        return `${shown} is not a multiple of ${String(i.divisor)}`;
      case 'invalid_format':
        return `${shown} is not a valid ${i.format}`;
      default:
        // custom refinements carry their own sentence
        return i.message;
    }
  })();
  return { field, text };
}

/** `field: <what is wrong with the value>; allowed: <what>`, one sentence per issue. */
export function plainIssue(i: z.core.$ZodIssue, raw: unknown, root = 'the input'): string {
  const { field, text } = plainIssueParts(i, raw, root);
  return `${field}: ${text}`;
}
