// The reference fields of every job that names models or data sets: the folder relative paths
// resolve against and the roots built-in names resolve under. The app fills them in before the
// params are validated (EngineHost.start → withRoots), so the stored run says exactly where its
// references were looked up, and the worker resolves them the same way (resolverFor(params)).
// Main-thread safe: zod only.
import { z } from 'zod';

export const RefParams = {
  baseDir: z.string().optional().describe('folder relative model / data paths are resolved against'),
  modelDirs: z
    .array(z.string())
    .default([])
    .describe('folders holding built-in models (<dir>/<name>/config.json), searched in order'),
  dataDirs: z.array(z.string()).default([]).describe('folders holding built-in data sets, searched in order'),
};

/** A job's way from raw params to their references' roots: the app's roots follow the given ones. */
export function withRoots(
  raw: unknown,
  roots: { modelRoots: readonly string[]; datasetRoots: readonly string[] },
  cwd: string,
): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw; // the schema says what is wrong
  const p = raw as Record<string, unknown>;
  const extend = (given: unknown, more: readonly string[]) =>
    given === undefined ? [...more] : Array.isArray(given) ? [...new Set([...given, ...more])] : given;
  return {
    ...p,
    baseDir: p.baseDir ?? cwd,
    modelDirs: extend(p.modelDirs, roots.modelRoots),
    dataDirs: extend(p.dataDirs, roots.datasetRoots),
  };
}
