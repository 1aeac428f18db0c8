// Dataset specs: a built-in name (resolved in the data dirs) or a path to a .txt/.raw/.jsonl/.parquet.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors';
import { BUILTIN_DATASETS } from './dataset-builtins';
import { type DatasetFormat, readRows } from './dataset-rows';

export type { DatasetFormat } from './dataset-rows';

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

const EXTENSION_FORMATS: [RegExp, DatasetFormat][] = [
  [/\.(txt|raw)$/i, 'lines'],
  [/\.(jsonl|json\.gz|jsonl\.gz)$/i, 'jsonl'],
  [/\.parquet$/i, 'parquet'],
];

function repoRoot(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'src-main'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * `MOE_DATA_DIR` (path-list), the app's `resources/data` (packaged: next to the app resources),
 * and `../shared/data` beside the repo when present (development and tests).
 */
export function defaultDataDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.MOE_DATA_DIR) dirs.push(...process.env.MOE_DATA_DIR.split(path.delimiter).filter(Boolean));
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) dirs.push(path.join(resourcesPath, 'data'));
  const root = repoRoot();
  if (root) {
    dirs.push(path.join(root, 'resources', 'data'));
    const shared = path.resolve(root, '..', 'shared', 'data');
    if (fs.existsSync(shared)) dirs.push(shared);
  }
  return dirs.map((d) => path.resolve(d));
}

export function builtinDatasetNames(): string[] {
  return BUILTIN_DATASETS.map((d) => d.name);
}

export function resolveDataset(spec: string, opts: { dataDirs?: string[] } = {}): DatasetRef {
  const dataDirs = opts.dataDirs ?? defaultDataDirs();
  const builtin = BUILTIN_DATASETS.find((d) => d.name === spec);
  if (builtin) {
    for (const c of builtin.candidates) {
      for (const dir of dataDirs) {
        const file = path.resolve(dir, c.file);
        if (fs.existsSync(file))
          return { spec, builtin: builtin.name, path: file, format: c.format, limit: c.limit ?? null };
      }
    }
    throw new EngineError(
      `built-in dataset '${spec}' not found: looked for ${builtin.candidates.map((c) => c.file).join(' or ')}`,
      {
        file: dataDirs.join(path.delimiter) || '(no data dirs)',
        field: 'dataset',
        hint: 'set MOE_DATA_DIR to the folder holding the evaluation data',
      },
    );
  }
  const file = path.resolve(spec);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new EngineError(
      `dataset '${spec}' is neither a built-in (${builtinDatasetNames().join(', ')}) nor an existing file`,
      {
        file,
        field: 'dataset',
      },
    );
  }
  const fmt = EXTENSION_FORMATS.find(([re]) => re.test(file));
  if (!fmt) {
    throw new EngineError(
      'unsupported dataset file type; expected .txt/.raw (one row per line), .jsonl[.gz] or .parquet (a "text" field)',
      {
        file,
        field: 'dataset',
      },
    );
  }
  return { spec, builtin: null, path: file, format: fmt[1], limit: null };
}

/** The dataset's rows (documents). Throws if it holds no text at all. */
export async function loadDatasetRows(ref: DatasetRef): Promise<string[]> {
  let rows = await readRows(ref.path, ref.format);
  if (ref.limit !== null && rows.length > ref.limit) rows = rows.slice(0, ref.limit);
  if (!rows.some((r) => r.length > 0)) {
    throw new EngineError(`dataset is empty (${rows.length} rows, no text)`, {
      file: ref.path,
      field: 'dataset',
    });
  }
  return rows;
}

/** The perplexity text: rows joined with a blank line (§8.1: `"\n\n".join(test["text"])`). */
export function joinForPerplexity(rows: string[]): string {
  return rows.join('\n\n');
}
