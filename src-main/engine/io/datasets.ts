// Data set rows. References (a built-in name or a path) resolve through io/resolver.ts; the
// `resolveDataset` here is the resolver with this process's source-tree roots, for scripts, tests
// and callers that are not handed roots.
import { EngineError } from '../errors';
import { readRows } from './dataset-rows';
import { createResolver, type DatasetRef, sourceTreeRoots } from './resolver';

export { builtinDatasetNames } from './dataset-builtins';
export type { DatasetFormat } from './dataset-rows';
export type { DatasetRef } from './resolver';

/**
 * The data roots of the source checkout: `MOE_DATA_DIR` (path list), the repository's
 * resources/data and `../shared/data` beside the repo when present. The app passes its own roots.
 */
export function defaultDataDirs(): string[] {
  return sourceTreeRoots().datasetRoots;
}

/** `spec` against the working directory and `dataDirs` (default: defaultDataDirs()). */
export function resolveDataset(
  spec: string,
  opts: { dataDirs?: string[]; baseDir?: string } = {},
): DatasetRef {
  return createResolver({
    baseDir: opts.baseDir ?? process.cwd(),
    modelRoots: [],
    datasetRoots: opts.dataDirs ?? defaultDataDirs(),
  }).resolveDataset(spec);
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
