import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RankOptions, SvdOptions } from '../../src-main/engine/methods/params-common';
import { getAt, setAt } from '../../src-renderer/src/forms/object-path';
import {
  type Field,
  fieldsOf,
  type JsonSchema,
  labelOf,
  parseNumberInput,
  rangeText,
} from '../../src-renderer/src/forms/schema-fields';

const schema = z.toJSONSchema(
  z
    .object({
      ...RankOptions,
      alpha: z.number().min(0).max(1).default(0.5).describe('scaling exponent'),
      whiten: z.boolean().default(true),
      svd: SvdOptions,
    })
    .strict(),
  { io: 'input', unrepresentable: 'any' },
) as JsonSchema;

describe('form fields from a method params JSON Schema', () => {
  const fields = fieldsOf(schema);
  const byKey = (k: string) => fields.find((f) => f.key === k)!;

  it('one field per property in declaration order, with labels from the keys', () => {
    expect(fields.map((f) => f.key)).toEqual(['ratio', 'keepRatio', 'rank', 'alpha', 'whiten', 'svd']);
    expect(labelOf('keepRatio')).toBe('Keep ratio');
    expect(labelOf('seq_len')).toBe('Seq len');
  });

  it('numbers keep their bounds and exclusivity; integers are told apart; huge safe-integer bounds are dropped', () => {
    const ratio = byKey('ratio') as Extract<Field, { kind: 'number' }>;
    expect(ratio).toMatchObject({ kind: 'number', min: 0, max: 1, exclusiveMin: false, exclusiveMax: true });
    expect(rangeText(ratio)).toBe('0 ≤ x < 1');
    const rank = byKey('rank') as Extract<Field, { kind: 'integer' }>;
    expect(rank).toMatchObject({ kind: 'integer', min: 1, max: undefined });
    expect(rangeText(rank)).toBe('1 ≤ n');
    expect(byKey('alpha')).toMatchObject({ kind: 'number', default: 0.5, description: 'scaling exponent' });
  });

  it('booleans, enums and nested objects map to checkbox, select and fieldset', () => {
    expect(byKey('whiten')).toMatchObject({ kind: 'boolean', default: true });
    const svd = byKey('svd') as Extract<Field, { kind: 'object' }>;
    expect(svd.kind).toBe('object');
    expect(svd.fields.map((f) => [f.key, f.kind, f.path.join('.')])).toEqual([
      ['method', 'enum', 'svd.method'],
      ['oversampling', 'integer', 'svd.oversampling'],
      ['powerIters', 'integer', 'svd.powerIters'],
      ['seed', 'integer', 'svd.seed'],
    ]);
    expect((svd.fields[0] as Extract<Field, { kind: 'enum' }>).options).toEqual([
      'auto',
      'exact',
      'randomized',
    ]);
  });

  it('number input text: empty unsets, numbers parse, junk stays NaN (invalid, reported by validation)', () => {
    expect(parseNumberInput('  ')).toBeUndefined();
    expect(parseNumberInput('0.25')).toBe(0.25);
    expect(parseNumberInput('abc')).toBeNaN();
  });
});

describe('object paths', () => {
  it('setAt copies along the path, creates containers and removes keys set to undefined', () => {
    const a = { steps: [{ method: 'svd', params: { rank: 4 } }], name: 'x' };
    const b = setAt(a, ['steps', 0, 'params', 'rank'], 8);
    expect(getAt(b, ['steps', 0, 'params', 'rank'])).toBe(8);
    expect(a.steps[0]!.params.rank).toBe(4);
    expect(b.name).toBe('x');
    expect(setAt({}, ['evaluate', 'ppl', 'seqLen'], 32)).toEqual({ evaluate: { ppl: { seqLen: 32 } } });
    expect(setAt(a, ['name'], undefined)).toEqual({ steps: a.steps });
    expect(getAt(a, ['steps', 3, 'x'])).toBeUndefined();
  });
});
