import { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { RefParams } from './refs.params';

export const EvalLogitsParams = z
  .object({
    model: z.string().min(1).describe('built-in model name (tiny-mixtral, …) or a Hugging Face model folder'),
    tokenIds: z.string().min(1).describe('the sequence: a {"ids": [...]} file as `tokenize` writes it'),
    out: z.string().min(1).describe('output JSON file: {"shape":[T,V],"logits":[...]}'),
    ...RefParams,
  })
  .strict();
export type EvalLogitsParams = z.output<typeof EvalLogitsParams>;

export function resolveEvalLogits(p: EvalLogitsParams, r: Resolver): { modelDir: string } {
  const modelDir = r.resolveModel(p.model);
  r.resolveFile(p.tokenIds, 'tokenIds');
  return { modelDir };
}
