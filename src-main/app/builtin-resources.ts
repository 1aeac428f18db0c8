// The data sets and models shipped in resources/ (data/<name>/<file>, models/<name>/config.json),
// registered in the store as built-in at every open: added once, kept in step with the folder, and
// dropped when their files are gone. Paths are absolute, so a store shared by two installs keeps
// each install's entries apart.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetRecord } from '../contract/index';
import { scanDataRoot, storedFormat } from '../engine/io/dataset-builtins';
import type { Store } from '../store/index';
import { packageRoot } from '../store/native-binding';

export interface BuiltinDataset {
  name: string;
  path: string;
  format: Exclude<DatasetRecord['format'], 'builtin'>;
}

export interface BuiltinModel {
  name: string;
  path: string;
  architecture: string | null;
}

/**
 * Packaged app: Electron's resources folder (where the packager copies resources/); otherwise the
 * repository's resources/. Null when neither exists.
 */
export function defaultResourcesDir(): string | null {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [packaged, packageRoot() && path.join(packageRoot()!, 'resources')];
  for (const dir of candidates) {
    if (dir && ['data', 'models'].some((sub) => fs.existsSync(path.join(dir, sub)))) return path.resolve(dir);
  }
  return null;
}

const subfolders = (dir: string): string[] => {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
};

/**
 * The data sets resources/data holds, named as the engine resolves them (engine/io/dataset-builtins.ts:
 * a named built-in's file, else data/<name>/ with one data file is <name>, with several <name>/<stem>).
 */
export function scanDatasets(resources: string): BuiltinDataset[] {
  return scanDataRoot(path.join(resources, 'data')).map((d) => ({
    name: d.name,
    path: d.path,
    format: storedFormat(d.format),
  }));
}

/** models/<name>/ holding a config.json that is a JSON object. */
export function scanModels(resources: string): BuiltinModel[] {
  const out: BuiltinModel[] = [];
  for (const folder of subfolders(path.join(resources, 'models'))) {
    const dir = path.join(resources, 'models', folder);
    let cfg: unknown;
    try {
      cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    } catch {
      continue; // no config.json yet, or one being written: not a model (yet)
    }
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) continue;
    const type = (cfg as { model_type?: unknown }).model_type;
    out.push({ name: folder, path: dir, architecture: typeof type === 'string' ? type : null });
  }
  return out;
}

function inside(dir: string, p: string): boolean {
  const r = path.relative(dir, p);
  return r !== '' && !r.startsWith('..') && !path.isAbsolute(r);
}

/**
 * Upserts what `resources` holds as built-in, and removes built-in entries whose file or folder is
 * gone (or that sit under `resources` but are no longer found there). One transaction; safe when
 * two processes open the store at once. Returns what changed.
 */
export function registerBuiltins(
  store: Store,
  resources: string | null,
): { datasets: number; models: number; removed: number } {
  const datasets = resources ? scanDatasets(resources) : [];
  const models = resources ? scanModels(resources) : [];
  const found = new Set([...datasets, ...models].map((e) => e.path));
  const stale = (p: string, marker: string) =>
    !fs.existsSync(path.join(p, marker)) || (resources !== null && inside(resources, p) && !found.has(p));
  let removed = 0;
  store.db.transaction(() => {
    for (const d of datasets) store.datasets.upsertBuiltin(d);
    for (const m of models) store.models.upsertBuiltin(m);
    for (const d of store.datasets.list())
      if (d.builtin && stale(d.path, '')) removed += Number(store.datasets.remove(d.id));
    for (const m of store.models.list())
      if (m.builtin && stale(m.path, 'config.json')) removed += Number(store.models.remove(m.id));
  })();
  return { datasets: datasets.length, models: models.length, removed };
}
