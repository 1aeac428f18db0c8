// Form fields generated from a JSON Schema (the one zod → JSON Schema produces for a method's
// params or a pipeline section): what input each property needs, its bounds, default and help.

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  $ref?: string;
}

interface FieldBase {
  key: string;
  /** path from the form's root object */
  path: string[];
  label: string;
  description: string | undefined;
  default: unknown;
  required: boolean;
}

export type Field =
  | (FieldBase & {
      kind: 'number' | 'integer';
      min: number | undefined;
      max: number | undefined;
      exclusiveMin: boolean;
      exclusiveMax: boolean;
    })
  | (FieldBase & { kind: 'boolean' })
  | (FieldBase & { kind: 'enum'; options: (string | number)[] })
  /** an array of distinct enum values (`z.array(z.enum(...))`): one checkbox per option */
  | (FieldBase & { kind: 'set'; options: (string | number)[] })
  | (FieldBase & { kind: 'string' })
  | (FieldBase & { kind: 'object'; fields: Field[] })
  | (FieldBase & { kind: 'json' });

/** camelCase / snake_case → "Sentence case". */
export function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const SAFE = 9007199254740991;
const bound = (v: number | undefined) => (v === undefined || Math.abs(v) >= SAFE ? undefined : v);

/** The non-null branch of `anyOf: [X, {type: null}]` (optional/nullable zod types). */
function unwrap(s: JsonSchema): JsonSchema {
  const alts = s.anyOf ?? s.oneOf;
  if (!alts) return s;
  const real = alts.filter((a) => a.type !== 'null');
  return real.length === 1
    ? {
        ...real[0],
        description: s.description ?? real[0]!.description,
        default: s.default ?? real[0]!.default,
      }
    : s;
}

export function fieldsOf(schema: JsonSchema, path: string[] = []): Field[] {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  return Object.entries(props)
    .filter(([key]) => key !== '$schema')
    .map(([key, raw]): Field => {
      const s = unwrap(raw);
      const base: FieldBase = {
        key,
        path: [...path, key],
        label: s.title ?? labelOf(key),
        description: s.description,
        default: s.default,
        required: required.has(key) && s.default === undefined,
      };
      const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
      if (s.enum?.every((v) => typeof v === 'string' || typeof v === 'number'))
        return { ...base, kind: 'enum', options: s.enum as (string | number)[] };
      if (type === 'number' || type === 'integer') {
        return {
          ...base,
          kind: type,
          min: bound(s.exclusiveMinimum ?? s.minimum),
          max: bound(s.exclusiveMaximum ?? s.maximum),
          exclusiveMin: s.exclusiveMinimum !== undefined,
          exclusiveMax: s.exclusiveMaximum !== undefined,
        };
      }
      const items = type === 'array' && s.items ? unwrap(s.items) : undefined;
      if (items?.enum?.every((v) => typeof v === 'string' || typeof v === 'number'))
        return { ...base, kind: 'set', options: items.enum as (string | number)[] };
      if (type === 'boolean') return { ...base, kind: 'boolean' };
      if (type === 'string') return { ...base, kind: 'string' };
      if (type === 'object' && s.properties)
        return { ...base, kind: 'object', fields: fieldsOf(s, base.path) };
      return { ...base, kind: 'json' };
    });
}

/** Text typed into a numeric field → the value to store: undefined (unset) or a number; NaN stays invalid. */
export function parseNumberInput(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return Number(t);
}

/** A human range note for a numeric field: "0 ≤ x < 1". */
export function rangeText(f: Extract<Field, { kind: 'number' | 'integer' }>): string | null {
  if (f.min === undefined && f.max === undefined) return null;
  const lo = f.min === undefined ? '' : `${f.min} ${f.exclusiveMin ? '<' : '≤'} `;
  const hi = f.max === undefined ? '' : ` ${f.exclusiveMax ? '<' : '≤'} ${f.max}`;
  return `${lo}${f.kind === 'integer' ? 'n' : 'x'}${hi}`;
}

/**
 * The object schema a form edits when the root is a union of versions (`oneOf` of objects told
 * apart by a `const` field, as the pipeline config's version 2 | 1): the branch whose `key` is
 * `value`, else the first object branch; a plain object schema is returned as it is.
 */
export function branchOf(
  schema: JsonSchema | undefined,
  key: string,
  value: unknown,
): JsonSchema | undefined {
  if (!schema || schema.properties) return schema;
  const alts = (schema.oneOf ?? schema.anyOf ?? []).filter((a) => a.properties);
  return alts.find((a) => a.properties?.[key]?.const === value) ?? alts[0];
}
