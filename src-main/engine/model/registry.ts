// Supported architectures: a new one is one adapter file plus one line here.
import { EngineError } from '../errors';
import type { ArchAdapter } from './adapter';
import { readConfigJson } from './config';
import { deepseek } from './deepseek';
import { mixtral } from './mixtral';
import { olmoe } from './olmoe';
import { phimoe } from './phimoe';
import { qwen2Moe } from './qwen2-moe';
import { qwen3Moe } from './qwen3-moe';
import type { ModelSpec } from './types';

export const ADAPTERS: readonly ArchAdapter[] = [mixtral, qwen2Moe, qwen3Moe, olmoe, deepseek, phimoe];

export function adapterFor(modelType: unknown, file: string): ArchAdapter {
  const found = ADAPTERS.find((a) => a.modelType === modelType);
  if (found) return found;
  throw new EngineError(
    `unsupported model_type ${JSON.stringify(modelType)}; supported: ${ADAPTERS.map((a) => a.modelType).join(', ')}`,
    { file, field: 'model_type' },
  );
}

export function parseModelSpec(raw: Record<string, unknown>, file: string): ModelSpec {
  return adapterFor(raw.model_type, file).parse(raw, file);
}

export function loadModelSpec(modelDir: string): {
  spec: ModelSpec;
  file: string;
  raw: Record<string, unknown>;
} {
  const { raw, file } = readConfigJson(modelDir);
  return { spec: parseModelSpec(raw, file), file, raw };
}
