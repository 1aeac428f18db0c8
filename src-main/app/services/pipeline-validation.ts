// Pipeline configs checked by the engine's own zod schema (plus its semantic checks), reported as
// a flat list of {path, message} the editor can place inline. Loaded lazily: the schema is built
// from the method registry, which pulls in tfjs.
import type { ConfigIssue } from '../../contract/index';

type ConfigModule = typeof import('../../engine/pipeline/config');
let configModule: Promise<ConfigModule> | null = null;
export const pipelineConfigModule = (): Promise<ConfigModule> => {
  configModule ??= import('../../engine/pipeline/config');
  return configModule;
};

export async function validatePipelineConfig(config: unknown): Promise<ConfigIssue[]> {
  const { PipelineConfig, parsePipelineConfig } = await pipelineConfigModule();
  const parsed = PipelineConfig.safeParse(config);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  }
  try {
    parsePipelineConfig(config);
    return [];
  } catch (e) {
    const err = e as Error & { field?: string };
    return [{ path: err.field && err.field !== '(root)' ? err.field : '', message: err.message }];
  }
}
