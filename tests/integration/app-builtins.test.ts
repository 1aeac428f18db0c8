// Built-in data sets and models (resources/data, resources/models) registered at every store open:
// once each, kept in step with the folders, stale ones dropped, user entries untouched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultResourcesDir, scanDatasets } from '../../src-main/app/builtin-resources';
import { createApp } from '../../src-main/app/create-app';

let tmp: string;
let home: string;
let resources: string;

const write = (rel: string, text: string) => {
  const file = path.join(resources, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'builtins-'));
  home = path.join(tmp, 'home');
  resources = path.join(tmp, 'resources');
  write('data/README.md', '# data');
  write('data/wikitext2/wiki.test.raw', ' = Title = \n');
  write('data/wikitext2/NOTICE.md', 'licence');
  write('data/calib/c4-calib.txt', 'calibration text\n');
  write('data/mixed/a.txt', 'a\n');
  write('data/mixed/b.jsonl', '{"text":"b"}\n');
  write('models/tiny-mixtral/config.json', '{"model_type": "mixtral"}');
  write('models/tiny-deepseek/tokenizer.json', '{}'); // config.json not there (yet)
  write('models/broken/config.json', '{"model_type": ');
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function snapshot() {
  const app = await createApp({ home, mode: 'cli' }, { resourcesDir: resources });
  try {
    const datasets = await app.handlers['datasets.list']({});
    const models = await app.handlers['models.list']({});
    return {
      datasets: datasets.map((d) => [d.id, d.name, d.format, d.builtin, path.relative(resources, d.path)]),
      models: models.map((m) => [m.id, m.name, m.architecture, m.builtin]),
    };
  } finally {
    await app.close();
  }
}

describe('built-in resources', () => {
  it('registers data files and model folders with a config.json, once', async () => {
    const first = await snapshot();
    expect(first.datasets).toEqual([
      [1, 'calib', 'text', true, 'data/calib/c4-calib.txt'],
      [2, 'mixed/a', 'text', true, 'data/mixed/a.txt'],
      [3, 'mixed/b', 'jsonl', true, 'data/mixed/b.jsonl'],
      [4, 'wikitext2', 'text', true, 'data/wikitext2/wiki.test.raw'],
    ]);
    expect(first.models).toEqual([[1, 'tiny-mixtral', 'mixtral', true]]);
    const again = await snapshot();
    expect(again.datasets).toEqual(first.datasets);
    expect(again.models).toEqual(first.models);
  });

  it('follows the folders: new models appear, vanished ones go, user entries stay', async () => {
    await snapshot();
    const app = await createApp({ home, mode: 'cli' }, { resourcesDir: resources });
    const userDir = path.join(tmp, 'my-model');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'config.json'), '{"model_type": "olmoe"}');
    await app.handlers['models.add']({ path: userDir });
    await app.close();

    write('models/tiny-deepseek/config.json', '{"model_type": "deepseek_v2"}');
    fs.rmSync(path.join(resources, 'models', 'tiny-mixtral'), { recursive: true });
    fs.rmSync(path.join(resources, 'data', 'mixed', 'b.jsonl'));
    const after = await snapshot();
    expect(after.models.map(([, name, arch, builtin]) => [name, arch, builtin])).toEqual([
      ['my-model', 'olmoe', false],
      ['tiny-deepseek', 'deepseek_v2', true],
    ]);
    // mixed/ now holds one file: it is data set `mixed`, and the old `mixed/a` entry is replaced
    expect(after.datasets.map(([, name]) => name)).toEqual(['calib', 'mixed', 'wikitext2']);
  });

  it('with no resources folder, drops built-ins whose files are gone and keeps the rest', async () => {
    await snapshot();
    fs.rmSync(path.join(resources, 'data', 'calib'), { recursive: true });
    const app = await createApp({ home, mode: 'cli' }, { resourcesDir: null });
    try {
      const names = (await app.handlers['datasets.list']({})).map((d) => d.name);
      expect(names).toEqual(['mixed/a', 'mixed/b', 'wikitext2']);
      expect((await app.handlers['models.list']({})).map((m) => m.name)).toEqual(['tiny-mixtral']);
    } finally {
      await app.close();
    }
  });

  it("finds the repository's resources/ and its bundled data sets", () => {
    const dir = defaultResourcesDir();
    expect(dir).not.toBeNull();
    expect(path.basename(dir!)).toBe('resources');
    const names = scanDatasets(dir!).map((d) => d.name);
    for (const n of ['wikitext2', 'calib', 'heldout']) {
      if (fs.existsSync(path.join(dir!, 'data', n))) expect(names).toContain(n);
    }
  });
});
