import { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { checkSource } from '../io/token-source';
import { RefParams } from './refs.params';

export const TokenizeParams = z
  .object({
    model: z
      .string()
      .min(1)
      .describe('built-in model name or a folder holding tokenizer.json (+ tokenizer_config.json)'),
    dataset: z
      .string()
      .min(1)
      .optional()
      .describe('built-in dataset name or a data file; rows joined with "\\n\\n"'),
    text: z.string().min(1).optional().describe('a UTF-8 text file, tokenized as one string'),
    out: z.string().min(1).describe('where to write {"ids": [...]}'),
    ...RefParams,
  })
  .strict()
  .refine((p) => (p.dataset === undefined) !== (p.text === undefined), {
    message: 'tokenize needs exactly one of dataset or text',
  });
export type TokenizeParams = z.output<typeof TokenizeParams>;

export function resolveTokenize(p: TokenizeParams, r: Resolver): { modelDir: string } {
  // a tokenizer folder needs no config.json; checked first, as the tokenizer is what is used first
  const modelDir = r.resolveModel(p.model, { needs: 'tokenizer.json' });
  checkSource({ dataset: p.dataset, text: p.text }, r);
  return { modelDir };
}
