// A pipeline's `model`: a Hugging Face folder path, or a built-in model name. Resolution is
// io/resolver.ts with explicit roots; this wrapper is for callers that only have a base folder
// (plan previews, scripts): it uses the source checkout's roots (MOE_MODELS_DIR, resources/models).
import { createResolver, sourceTreeRoots } from '../io/resolver';

export function resolveModelDir(
  spec: string,
  baseDir = process.cwd(),
  modelRoots: readonly string[] = sourceTreeRoots().modelRoots,
): string {
  return createResolver({ baseDir, modelRoots, datasetRoots: [] }).resolveModel(spec);
}
