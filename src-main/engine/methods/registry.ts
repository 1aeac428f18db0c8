// Compression methods by id: one module per method, one line here.
import { z } from 'zod';
import { EngineError } from '../errors';
import { asvd } from './asvd';
import { moeSvd } from './moe-svd';
import { svd } from './svd';
import { svdLlm } from './svd-llm';
import type { CompressionMethod } from './types';

export const METHODS: ReadonlyMap<string, CompressionMethod<any>> = new Map<string, CompressionMethod<any>>([
  [svd.id, svd],
  [asvd.id, asvd],
  [svdLlm.id, svdLlm],
  [moeSvd.id, moeSvd],
]);

export const METHOD_IDS = [...METHODS.keys()] as [string, ...string[]];

export function getMethod(id: string, field = 'steps[].method'): CompressionMethod<any> {
  const m = METHODS.get(id);
  if (!m) throw new EngineError(`unknown method '${id}'; expected one of ${METHOD_IDS.join(', ')}`, { field });
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
