// The one resolver for model and data set references, built from explicit roots the app passes in.
// No fs lookups of its own beyond those roots: the engine never asks Electron or the process where
// it is installed. Relative paths resolve against `baseDir` only (a config file's folder for a
// config, the working directory for CLI flags); built-in names resolve under the roots.
//
//   model:    a folder path (with config.json) → that folder; else a bare name → <modelRoot>/<name>
//   dataset:  a built-in name (dataset-builtins.ts) → its file in the data roots; else a file path
//   file:     a path against baseDir (text files, token-id files, outputs)
//
// Paths are made absolute with path.resolve, never realpath: a symlinked folder stays the path the
// user gave. Resolution only reads the file system; it is safe on the main thread (no tfjs).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors';
import {
  BUILTIN_DATASETS,
  builtinDatasetNames,
  fileFormat,
  SUPPORTED_FILE_TYPES,
  scanDataFolder,
} from './dataset-builtins';
import type { DatasetFormat } from './dataset-rows';

export interface DatasetRef {
  /** What the user asked for. */
  spec: string;
  /** Built-in name, or null for a path spec. */
  builtin: string | null;
  /** Absolute path of the file read. */
  path: string;
  format: DatasetFormat;
  /** Keep only the first `limit` rows. */
  limit: number | null;
}

/** Where built-in models and data sets live, in lookup order. */
export interface ResolverRoots {
  /** `<root>/<name>/config.json` is built-in model `<name>` */
  modelRoots: readonly string[];
  /** data roots for the built-in data sets (dataset-builtins.ts) */
  datasetRoots: readonly string[];
}

export interface ResolverOptions extends ResolverRoots {
  /** what relative paths resolve against */
  baseDir: string;
}

export interface ModelLookup {
  /**
   * The file a folder given by path must hold (default config.json). Built-in names always need a
   * config.json. `tokenizer.json` for commands that only tokenize.
   */
  needs?: 'config.json' | 'tokenizer.json';
  /** field named in errors (default 'model') */
  field?: string;
}

export interface Resolver {
  readonly options: Readonly<ResolverOptions>;
  /** Absolute model folder. Throws an EngineError naming the roots when nothing matches. */
  resolveModel(ref: string, opts?: ModelLookup): string;
  /** The data file a data set reference reads, with its row format. */
  resolveDataset(ref: string, field?: string): DatasetRef;
  /** An existing file given by path (a text or token-id file). */
  resolveFile(ref: string, field: string): string;
  /** A path against baseDir; nothing is checked (outputs). */
  resolvePath(ref: string): string;
  /** Built-in models under the roots, by name. */
  builtinModels(): { name: string; path: string }[];
}

const isDir = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};
/** A bare name (no separator), which may name a built-in. */
const isName = (ref: string) => !/[/\\]/.test(ref) && ref !== '.' && ref !== '..';

export function createResolver(options: ResolverOptions): Resolver {
  const opts: ResolverOptions = {
    baseDir: path.resolve(options.baseDir),
    modelRoots: dedupe(options.modelRoots.map((d) => path.resolve(options.baseDir, d))),
    datasetRoots: dedupe(options.datasetRoots.map((d) => path.resolve(options.baseDir, d))),
  };
  const rootList = (roots: readonly string[]) => (roots.length ? roots.join(path.delimiter) : '(no roots)');

  const builtinModels = () => {
    const seen = new Set<string>();
    const out: { name: string; path: string }[] = [];
    for (const root of opts.modelRoots) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(root).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        const dir = path.join(root, name);
        if (!seen.has(name) && isFile(path.join(dir, 'config.json'))) {
          seen.add(name);
          out.push({ name, path: dir });
        }
      }
    }
    return out;
  };

  return {
    options: opts,
    builtinModels,

    resolveModel(ref, lookup = {}) {
      const needs = lookup.needs ?? 'config.json';
      const field = lookup.field ?? 'model';
      const direct = path.resolve(opts.baseDir, ref);
      if (isFile(path.join(direct, needs))) return direct;
      if (isName(ref)) {
        for (const root of opts.modelRoots) {
          const dir = path.join(root, ref);
          if (isFile(path.join(dir, 'config.json'))) return dir;
        }
      }
      if (isDir(direct)) {
        // the folder is there: say what it lacks (the tokenizer's own wording for tokenizer.json)
        throw new EngineError(`no ${needs} in the model folder`, { file: direct });
      }
      const names = builtinModels().map((m) => m.name);
      throw new EngineError(`model '${ref}' is neither a model folder (with ${needs}) nor a built-in model`, {
        field,
        hint: `paths resolve against ${opts.baseDir}; built-in models${names.length ? ` (${names.join(', ')})` : ''} are looked up in ${rootList(opts.modelRoots)}`,
      });
    },

    resolveDataset(ref, field = 'dataset') {
      const entry = BUILTIN_DATASETS.find((d) => d.name === ref);
      if (entry) {
        // candidate order first, then root order: a preferred file in a later root still wins
        for (const c of entry.candidates) {
          for (const root of opts.datasetRoots) {
            const file = path.resolve(root, c.file);
            if (isFile(file))
              return { spec: ref, builtin: entry.name, path: file, format: c.format, limit: c.limit ?? null };
          }
        }
        throw new EngineError(
          `built-in dataset '${ref}' not found: looked for ${entry.candidates.map((c) => c.file).join(' or ')}`,
          {
            file: opts.datasetRoots.join(path.delimiter) || '(no data dirs)',
            field,
            hint: 'pass --data-dir DIR (or set MOE_DATA_DIR) to the folder holding the evaluation data',
          },
        );
      }
      // the folder convention: <root>/<name>/ or <root>/<folder>/<stem>
      const parts = ref.split('/');
      if (
        parts.length <= 2 &&
        parts.every((p) => p !== '' && p !== '.' && p !== '..') &&
        !path.isAbsolute(ref)
      ) {
        for (const root of opts.datasetRoots) {
          const hit = scanDataFolder(root, parts[0]!).find((d) => d.name === ref);
          if (hit)
            return { spec: ref, builtin: hit.name, path: hit.path, format: hit.format, limit: hit.limit };
        }
      }
      const file = path.resolve(opts.baseDir, ref);
      if (!isFile(file)) {
        throw new EngineError(
          `dataset '${ref}' is neither a built-in (${builtinDatasetNames().join(', ')}) nor an existing file`,
          {
            file,
            field,
            hint: `paths resolve against ${opts.baseDir}; built-in data sets are looked up in ${rootList(opts.datasetRoots)}`,
          },
        );
      }
      const ff = fileFormat(file);
      if (!ff) {
        throw new EngineError(`unsupported dataset file type; expected ${SUPPORTED_FILE_TYPES}`, {
          file,
          field,
        });
      }
      return { spec: ref, builtin: null, path: file, format: ff.format, limit: null };
    },

    resolveFile(ref, field) {
      const file = path.resolve(opts.baseDir, ref);
      if (!isFile(file)) {
        const kind = isDir(file)
          ? 'is a folder, not a file'
          : fs.existsSync(file)
            ? 'is not a regular file (a device, pipe or socket)'
            : 'no such file';
        throw new EngineError(kind, {
          file,
          field,
          hint: `relative paths resolve against ${opts.baseDir}`,
        });
      }
      return file;
    },

    resolvePath: (ref) => path.resolve(opts.baseDir, ref),
  };
}

/** The reference fields every resolving job's params carry (see jobs/refs.params.ts). */
export interface RefParams {
  baseDir?: string | undefined;
  modelDirs?: readonly string[] | undefined;
  dataDirs?: readonly string[] | undefined;
}

/** The resolver a job's params stand for: the same on the main thread (before the run) and in the worker. */
export function resolverFor(params: RefParams): Resolver {
  return createResolver({
    baseDir: params.baseDir ?? process.cwd(),
    modelRoots: params.modelDirs ?? [],
    datasetRoots: params.dataDirs ?? [],
  });
}

export function dedupe<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

const pathList = (v: string | undefined) => (v ? v.split(path.delimiter).filter(Boolean) : []);

/**
 * The roots of an install whose bundled resources are in `resourcesDir` (the app computes it: the
 * repository's resources/ or Electron's resourcesPath): MOE_MODELS_DIR / MOE_DATA_DIR (path lists)
 * first, then `<resources>/models` and `<resources>/data`, then, in a source checkout only,
 * `../shared/data` beside the repository when present (the full evaluation sets).
 */
export function installRoots(
  resourcesDir: string | null,
  env: Readonly<Record<string, string | undefined>>,
): ResolverRoots & { modelRoots: string[]; datasetRoots: string[] } {
  const modelRoots = pathList(env.MOE_MODELS_DIR);
  const datasetRoots = pathList(env.MOE_DATA_DIR);
  if (resourcesDir) {
    const res = path.resolve(resourcesDir);
    modelRoots.push(path.join(res, 'models'));
    datasetRoots.push(path.join(res, 'data'));
    const checkout = path.dirname(res);
    const shared = path.resolve(checkout, '..', 'shared', 'data');
    if (fs.existsSync(path.join(checkout, 'src-main')) && isDir(shared)) datasetRoots.push(shared);
  }
  return {
    modelRoots: dedupe(modelRoots.map((d) => path.resolve(d))),
    datasetRoots: dedupe(datasetRoots.map((d) => path.resolve(d))),
  };
}

/**
 * The source checkout's roots, for scripts, benchmarks and tests that run engine code directly
 * (and callers not yet given roots). The app never uses this: it passes installRoots() of the
 * resources folder it computed.
 */
export function sourceTreeRoots(): ResolverRoots & { modelRoots: string[]; datasetRoots: string[] } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src-main')))
      return installRoots(path.join(dir, 'resources'), process.env);
    const up = path.dirname(dir);
    if (up === dir) return installRoots(null, process.env);
    dir = up;
  }
}
