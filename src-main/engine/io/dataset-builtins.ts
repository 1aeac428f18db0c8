// The one registry of built-in data sets and the one file-extension → format table.
//
// A built-in name resolves, in the data roots the app passes (io/resolver.ts), either through a
// named entry of BUILTIN_DATASETS (the first candidate file found wins; its row format is fixed
// here) or by the folder convention: `<root>/<name>/` holding one data file is data set `<name>`,
// holding several, `<name>/<file stem>` each. The app registers the same names in the store
// (app/builtin-resources.ts lists resources/data with `scanDataRoot`), so every built-in the UI
// shows resolves to the file and format the engine reads. Add a data set by dropping its folder in
// resources/data, or, when it needs a special row format or several candidate files, a line here.
import fs from 'node:fs';
import path from 'node:path';
import { MC_TASK_SPECS } from '../eval/mc/tasks';
import type { DatasetFormat } from './dataset-rows';

export interface BuiltinCandidate {
  /** Path relative to a data root. */
  file: string;
  format: DatasetFormat;
  /** Keep only the first `limit` rows. */
  limit?: number;
}

export interface BuiltinDataset {
  name: string;
  description: string;
  candidates: BuiltinCandidate[];
}

export const BUILTIN_DATASETS: BuiltinDataset[] = [
  {
    name: 'wikitext2',
    description: 'WikiText-2 raw test split (HF wikitext-2-raw-v1 rows)',
    candidates: [
      { file: 'wikitext2_raw/wiki.test.raw', format: 'wikitext-raw' },
      { file: 'wikitext2/wiki.test.raw', format: 'wikitext-raw' }, // bundled copy (resources/data)
    ],
  },
  {
    name: 'calib',
    description: 'C4 training-domain calibration slice bundled with the app (resources/data/calib)',
    candidates: [{ file: 'calib/c4-calib.txt', format: 'documents' }],
  },
  {
    name: 'heldout',
    description: 'C4 held-out text of the embedded tiny models (resources/data/heldout)',
    candidates: [{ file: 'heldout/c4-heldout.txt', format: 'documents' }],
  },
  {
    name: 'ptb',
    description: 'Penn Treebank test (HF ptb_text_only `sentence` rows)',
    candidates: [{ file: 'ptb/ptb.test.txt', format: 'ptb' }],
  },
  {
    // SVD-LLM / D²-MoE: the first 2000 docs of en validation shard 0. The real shard is used when
    // present; otherwise the local copy of that shard's first 1,025 docs (an exact prefix of the
    // convention's 2000, hence the same docs the papers start with; the token count is ~half).
    name: 'c4',
    description: 'C4 en validation shard 0, first 2000 docs (SVD-LLM/D²-MoE convention)',
    candidates: [
      { file: 'c4/c4-validation.00000-of-00008.json.gz', format: 'jsonl', limit: 2000 },
      { file: 'c4/c4-validation.00000-of-00008.json', format: 'jsonl', limit: 2000 },
      { file: 'c4/derived/c4_validation_00000_first1025.jsonl', format: 'jsonl', limit: 2000 },
      // bundled copy (resources/data/c4): the same 1,025 docs, gzipped
      { file: 'c4/c4_validation_00000_first1025.jsonl.gz', format: 'jsonl', limit: 2000 },
    ],
  },
  {
    // 2,000 C4 validation docs, but a sample rather than the shard-0 prefix.
    name: 'c4-2k',
    description: 'C4 validation, 2000 sampled docs (not the shard-0 prefix)',
    candidates: [
      { file: 'c4/c4_validation_2k.parquet', format: 'parquet' },
      { file: 'c4/derived/c4_validation_2k.jsonl', format: 'jsonl' },
    ],
  },
];

/** The store's coarse label of a data file (DatasetRecord.format, less 'builtin'). */
export type StoredFormat = 'text' | 'jsonl' | 'parquet';

/** The one extension table: how a data file given by path is read, and how the store labels it. */
export const FILE_FORMATS: readonly { pattern: RegExp; format: DatasetFormat; stored: StoredFormat }[] = [
  { pattern: /\.(txt|raw)$/i, format: 'lines', stored: 'text' },
  { pattern: /\.(jsonl|jsonl\.gz|json\.gz)$/i, format: 'jsonl', stored: 'jsonl' },
  { pattern: /\.parquet$/i, format: 'parquet', stored: 'parquet' },
];

/** What the error for any other extension says is accepted. */
export const SUPPORTED_FILE_TYPES = '.txt/.raw (one row per line), .jsonl[.gz] or .parquet (a "text" field)';

export function fileFormat(file: string): { format: DatasetFormat; stored: StoredFormat } | null {
  const hit = FILE_FORMATS.find((f) => f.pattern.test(file));
  return hit ? { format: hit.format, stored: hit.stored } : null;
}

export function storedFormat(format: DatasetFormat): StoredFormat {
  return format === 'jsonl' || format === 'parquet' ? format : 'text';
}

export function builtinDatasetNames(): string[] {
  return BUILTIN_DATASETS.map((d) => d.name);
}

export interface FolderDataset {
  name: string;
  /** absolute path of the data file */
  path: string;
  format: DatasetFormat;
  limit: number | null;
}

/** The first candidate of a named built-in that exists in `root`, or null. */
export function builtinIn(entry: BuiltinDataset, root: string): FolderDataset | null {
  for (const c of entry.candidates) {
    const file = path.resolve(root, c.file);
    if (isFile(file)) return { name: entry.name, path: file, format: c.format, limit: c.limit ?? null };
  }
  return null;
}

/**
 * Folders holding multiple-choice task documents (eval/mc/tasks.ts): questions and choices, not
 * text, so the folder convention never offers them as perplexity data sets.
 */
export const TASK_DATA_FOLDERS: ReadonlySet<string> = new Set(
  Object.values(MC_TASK_SPECS).flatMap((t) => t.files.map((f) => f.file.split('/')[0]!)),
);

/**
 * The data sets one folder `<root>/<folder>` stands for: a named built-in's file when `folder` is
 * its name (in the row format given above), else each data file by the folder convention.
 */
export function scanDataFolder(root: string, folder: string): FolderDataset[] {
  if (TASK_DATA_FOLDERS.has(folder)) return [];
  const dir = path.join(path.resolve(root), folder);
  const entry = BUILTIN_DATASETS.find((d) => d.name === folder);
  if (entry) {
    const hit = builtinIn(entry, root);
    return hit?.path.startsWith(`${dir}${path.sep}`) ? [hit] : [];
  }
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
  const files = names.flatMap((f) => {
    const ff = fileFormat(f);
    return ff && isFile(path.join(dir, f)) ? [{ f, format: ff.format }] : [];
  });
  return files.map(({ f, format }) => ({
    name: files.length === 1 ? folder : `${folder}/${f.replace(/\..*$/, '')}`,
    path: path.join(dir, f),
    format,
    limit: null,
  }));
}

/** Every data set a data root holds, by folder, sorted by folder name. */
export function scanDataRoot(root: string): FolderDataset[] {
  let folders: string[];
  try {
    folders = fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
  return folders.flatMap((folder) => scanDataFolder(root, folder));
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
