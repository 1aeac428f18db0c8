// The one resolver: built-in names under the roots it is given, paths against baseDir only, errors
// that name the roots, and folder / symlink paths kept as given (no realpath).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanDatasets } from '../../src-main/app/builtin-resources';
import { EngineError } from '../../src-main/engine/errors';
import { fileFormat, scanDataRoot } from '../../src-main/engine/io/dataset-builtins';
import { createResolver, installRoots, resolverFor } from '../../src-main/engine/io/resolver';
import { withRoots } from '../../src-main/engine/jobs/refs.params';
import { JOBS } from '../../src-main/engine/jobs/registry';
import { tempDir, writeFile } from './io-helpers';

const REPO = path.resolve(__dirname, '../..');
const RESOURCES = path.join(REPO, 'resources');
const dir = tempDir('moe-resolver-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const models = path.join(dir, 'models');
const data = path.join(dir, 'data');
const base = path.join(dir, 'work');
writeFile(models, 'alpha/config.json', '{"model_type": "mixtral"}');
writeFile(models, 'tok-only/tokenizer.json', '{}'); // no config.json: not a built-in model
writeFile(data, 'calib/c4-calib.txt', 'a\n\nb\n');
writeFile(data, 'notes/one.txt', 'x\ny\n');
writeFile(data, 'mixed/a.txt', 'a\n');
writeFile(data, 'mixed/b.jsonl', '{"text":"b"}\n');
writeFile(base, 'local-model/config.json', '{}');
writeFile(base, 'texts/t.txt', 'hello');
writeFile(base, 'tokfolder/tokenizer.json', '{}');

const r = createResolver({ baseDir: base, modelRoots: [models], datasetRoots: [data] });

function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('models', () => {
  it('a bare built-in name resolves under the model roots, in order', () => {
    expect(r.resolveModel('alpha')).toBe(path.join(models, 'alpha'));
    const other = path.join(dir, 'models2');
    writeFile(other, 'alpha/config.json', '{}');
    const both = createResolver({ baseDir: base, modelRoots: [other, models], datasetRoots: [] });
    expect(both.resolveModel('alpha')).toBe(path.join(other, 'alpha'));
  });

  it('the built-in models of the app resources resolve by name', () => {
    const app = createResolver({ baseDir: dir, ...installRoots(RESOURCES, {}) });
    for (const name of ['tiny-mixtral', 'tiny-deepseek'])
      expect(app.resolveModel(name)).toBe(path.join(RESOURCES, 'models', name));
  });

  it('relative paths resolve against baseDir only, absolute paths as they are', () => {
    expect(r.resolveModel('local-model')).toBe(path.join(base, 'local-model'));
    expect(r.resolveModel('./local-model')).toBe(path.join(base, 'local-model'));
    expect(r.resolveModel(path.join(models, 'alpha'))).toBe(path.join(models, 'alpha'));
    // a folder of that name under baseDir wins over a built-in (the path the user can see)
    writeFile(base, 'alpha/config.json', '{}');
    expect(r.resolveModel('alpha')).toBe(path.join(base, 'alpha'));
    fs.rmSync(path.join(base, 'alpha'), { recursive: true });
    // a name with a separator is a path, never a built-in
    expect(() => r.resolveModel('sub/alpha')).toThrow(EngineError);
  });

  it('a symlinked model folder stays the symlink path', () => {
    const link = path.join(base, 'linked');
    fs.symlinkSync(path.join(models, 'alpha'), link);
    expect(r.resolveModel('linked')).toBe(link);
    expect(r.resolveModel(link)).toBe(link);
  });

  it('an unknown name is an error naming baseDir, the roots and the built-ins', () => {
    const e = thrown(() => r.resolveModel('does-not-exist'));
    expect(e.message).toBe(
      "model: model 'does-not-exist' is neither a model folder (with config.json) nor a built-in model",
    );
    expect(e.hint).toContain(base);
    expect(e.hint).toContain(models);
    expect(e.hint).toContain('(alpha)');
    const none = createResolver({ baseDir: base, modelRoots: [], datasetRoots: [] });
    expect(thrown(() => none.resolveModel('alpha')).hint).toContain('(no roots)');
  });

  it('an existing folder without the file it needs says so; tokenizer folders need no config.json', () => {
    expect(thrown(() => r.resolveModel('tokfolder')).message).toBe(
      `${path.join(base, 'tokfolder')}: no config.json in the model folder`,
    );
    expect(r.resolveModel('tokfolder', { needs: 'tokenizer.json' })).toBe(path.join(base, 'tokfolder'));
    expect(thrown(() => r.resolveModel('texts', { needs: 'tokenizer.json' })).message).toBe(
      `${path.join(base, 'texts')}: no tokenizer.json in the model folder`,
    );
    // under a root, only folders with config.json are built-in models
    expect(() => r.resolveModel('tok-only')).toThrow(/neither a model folder/);
  });
});

describe('data sets', () => {
  it('named built-ins resolve in the data roots with their row format', () => {
    expect(r.resolveDataset('calib')).toEqual({
      spec: 'calib',
      builtin: 'calib',
      path: path.join(data, 'calib/c4-calib.txt'),
      format: 'documents',
      limit: null,
    });
  });

  it('folders resolve by the folder convention, the same names the store registers', () => {
    expect(r.resolveDataset('notes')).toMatchObject({
      builtin: 'notes',
      path: path.join(data, 'notes/one.txt'),
    });
    expect(r.resolveDataset('mixed/b')).toMatchObject({ builtin: 'mixed/b', format: 'jsonl' });
    expect(scanDataRoot(data).map((d) => d.name)).toEqual(['calib', 'mixed/a', 'mixed/b', 'notes']);
    // the app registers resources/data by the same function; every registered name resolves there
    const app = createResolver({
      baseDir: dir,
      modelRoots: [],
      datasetRoots: [path.join(RESOURCES, 'data')],
    });
    for (const d of scanDatasets(RESOURCES)) expect(app.resolveDataset(d.name).path).toBe(d.path);
  });

  it('paths resolve against baseDir; an unknown name lists the built-ins and the roots', () => {
    expect(r.resolveDataset('texts/t.txt')).toMatchObject({
      builtin: null,
      path: path.join(base, 'texts/t.txt'),
    });
    const e = thrown(() => r.resolveDataset('nope'));
    expect(e.message).toMatch(
      /dataset 'nope' is neither a built-in \(wikitext2, calib, heldout.*\) nor an existing file/,
    );
    expect(e.message.startsWith(path.join(base, 'nope'))).toBe(true);
    expect(e.hint).toContain(data);
  });

  it('one extension table', () => {
    expect(
      ['a.txt', 'a.raw', 'a.jsonl', 'a.json.gz', 'a.jsonl.gz', 'a.parquet', 'a.csv'].map(
        (f) => fileFormat(f)?.format ?? null,
      ),
    ).toEqual(['lines', 'lines', 'jsonl', 'jsonl', 'jsonl', 'parquet', null]);
  });
});

describe('files and roots', () => {
  it('resolveFile: an existing file against baseDir, else an error naming it', () => {
    expect(r.resolveFile('texts/t.txt', 'text')).toBe(path.join(base, 'texts/t.txt'));
    expect(thrown(() => r.resolveFile('missing.txt', 'text')).message).toBe(
      `${path.join(base, 'missing.txt')}: text: no such file`,
    );
    expect(thrown(() => r.resolveFile('texts', 'text')).message).toMatch(/is a folder, not a file/);
  });

  it('installRoots: environment first, then resources, then ../shared/data in a checkout only', () => {
    const roots = installRoots(RESOURCES, { MOE_MODELS_DIR: `/m1${path.delimiter}/m2`, MOE_DATA_DIR: '/d1' });
    expect(roots.modelRoots).toEqual(['/m1', '/m2', path.join(RESOURCES, 'models')]);
    expect(roots.datasetRoots.slice(0, 2)).toEqual(['/d1', path.join(RESOURCES, 'data')]);
    const shared = path.resolve(REPO, '..', 'shared', 'data');
    expect(roots.datasetRoots.includes(shared)).toBe(fs.existsSync(shared));
    expect(installRoots(path.join(dir, 'res'), {}).datasetRoots).toEqual([path.join(dir, 'res', 'data')]);
    expect(installRoots(null, {})).toEqual({ modelRoots: [], datasetRoots: [] });
  });

  it("job params carry the roots: the app's follow the given ones, and the worker resolves the same", () => {
    const raw = withRoots(
      { model: 'alpha', evaluations: [{ dataset: 'calib' }], dataDirs: ['/extra'] },
      { modelRoots: [models], datasetRoots: [data] },
      base,
    );
    const params = JOBS.get('eval.ppl')!.params.parse(raw) as {
      baseDir: string;
      modelDirs: string[];
      dataDirs: string[];
    };
    expect([params.baseDir, params.modelDirs, params.dataDirs]).toEqual([base, [models], ['/extra', data]]);
    // idempotent: a resumed run's stored params gain nothing twice
    expect(withRoots(params, { modelRoots: [models], datasetRoots: [data] }, '/elsewhere')).toEqual(params);
    expect(resolverFor(params).resolveModel('alpha')).toBe(path.join(models, 'alpha'));
    const resolve = JOBS.get('eval.ppl')!.resolve!;
    expect(resolve(params as never, resolverFor(params))).toEqual({ modelDir: path.join(models, 'alpha') });
    const bad = { ...params, evaluations: [{ dataset: 'nope', seqLen: 64 }] };
    expect(() => resolve(bad as never, resolverFor(bad))).toThrow(
      /evaluations\[0\]\.dataset: dataset 'nope'/,
    );
  });
});
