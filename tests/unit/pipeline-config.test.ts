import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, schemaText } from '../../scripts/gen-pipeline-schema';
import { EngineError } from '../../src-main/engine/errors';
import { METHODS } from '../../src-main/engine/methods/catalog';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';

const DIR = path.resolve('resources/pipelines');

describe('pipeline config', () => {
  it('resources/pipelines/pipeline.schema.json is up to date (npx tsx scripts/gen-pipeline-schema.ts)', () => {
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });

  it('every example config parses, and every method is covered', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'pipeline.schema.json');
    const methods = new Set<string>();
    for (const f of files) {
      const c = parsePipelineConfig(JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')), f);
      for (const st of c.steps) methods.add(st.method);
    }
    expect([...methods].sort()).toEqual([...METHODS.keys()].sort());
  });

  it('fills method defaults from the method schema', () => {
    const c = parsePipelineConfig({
      version: 1,
      name: 'x',
      model: 'm',
      target: { ratio: 0.4 },
      steps: [{ method: 'asvd' }],
    });
    expect(c.steps[0]!.params).toMatchObject({ alpha: 0.5, svd: { method: 'auto' } });
    expect(c.calibration).toMatchObject({ dataset: 'calib', seed: 3 });
  });

  it('bad input names the field', () => {
    const bad = (raw: unknown, field: string) => {
      try {
        parsePipelineConfig(raw, 'p.json');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        expect((e as EngineError).field).toBe(field);
      }
    };
    bad(
      { version: 1, name: 'x', model: 'm', target: { ratio: 1.2 }, steps: [{ method: 'svd' }] },
      'target.ratio',
    );
    bad(
      {
        version: 1,
        name: 'x',
        model: 'm',
        target: { ratio: 0.2 },
        steps: [{ method: 'svd', params: { alpha: 1 } }],
      },
      'steps.0.params',
    );
    bad(
      { version: 1, name: 'x', model: 'm', target: { ratio: 0.2 }, steps: [{ method: 'nope' }] },
      'steps.0.method',
    );
    bad({ version: 3, name: 'x', model: 'm', steps: [{ method: 'svd' }] }, 'version');
    bad({ version: 2, name: 'x', model: 'm', steps: [] }, 'steps');
    // every problem is listed, as plain sentences naming field, value and what is allowed
    try {
      parsePipelineConfig({
        version: 2,
        name: 'x',
        model: 'm',
        target: { ratio: 2 },
        steps: [{ method: 'svd', params: { rank: 'a' } }],
      });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/2 problems/);
      expect((e as Error).message).toMatch(/target\.ratio: 2 is too large; at most 1 \(exclusive\)/);
      expect((e as Error).message).toMatch(/steps\.0\.params\.rank: expected number, got "a"/);
    }
  });

  it('version 1 files load and resolve to version 2 with every default filled in', () => {
    const c = parsePipelineConfig({ version: 1, name: 'x', model: 'm', steps: [{ method: 'svd' }] });
    expect(c.version).toBe(2);
    expect(c.steps[0]!.params).toEqual({ svd: { method: 'auto', oversampling: 10, powerIters: 4, seed: 0 } });
    expect(parsePipelineConfig(c)).toEqual(c);
  });
});
