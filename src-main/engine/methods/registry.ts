// Compression methods by id: one module per method, one line here.
import { z } from 'zod';
import { EngineError } from '../errors';
import { asvd } from './asvd';
import { moeSvd } from './moe-svd';
import { svd } from './svd';
import { svdLlm } from './svd-llm';
import type { CompressionMethod } from './types';

// Each method has its own params type; the registry erases it (params are parsed by the method's schema).
// biome-ignore lint/suspicious/noExplicitAny: heterogeneous registry
type AnyMethod = CompressionMethod<any>;

export const METHODS: ReadonlyMap<string, AnyMethod> = new Map<string, AnyMethod>([
  [svd.id, svd],
  [asvd.id, asvd],
  [svdLlm.id, svdLlm],
  [moeSvd.id, moeSvd],
]);

export const METHOD_IDS = [...METHODS.keys()] as [string, ...string[]];

export function getMethod(id: string, field = 'steps[].method'): AnyMethod {
  const m = METHODS.get(id);
  if (!m)
    throw new EngineError(`unknown method '${id}'; expected one of ${METHOD_IDS.join(', ')}`, { field });
  return m;
}

/** What the pipeline editor and `methods.list` show: id, title, docs and the params JSON Schema. */
export function methodInfos(): { id: string; title: string; description: string; paramsSchema: unknown }[] {
  return [...METHODS.values()].map((m) => ({
    id: m.id,
    title: m.title,
    description: m.description,
    paramsSchema: z.toJSONSchema(m.params, { io: 'input', unrepresentable: 'any' }),
  }));
}
