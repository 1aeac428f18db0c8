import { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { checkSource } from '../io/token-source';
import { RefParams } from './refs.params';

export const EvalPplParams = z
  .object({
    model: z.string().min(1).describe('built-in model name (tiny-mixtral, …) or a Hugging Face model folder'),
    evaluations: z
      .array(
        z
          .object({
            dataset: z
              .string()
              .min(1)
              .optional()
              .describe('built-in dataset name (heldout, wikitext2, …) or a data file'),
            text: z.string().min(1).optional().describe('a UTF-8 text file, tokenized as one string'),
            tokenIds: z.string().min(1).optional().describe('a {"ids": [...]} file as `tokenize` writes it'),
            seqLen: z.number().int().min(2).max(32768).default(2048),
            maxWindows: z.number().int().min(1).optional(),
            batch: z.number().int().min(1).optional().describe('windows pushed through each layer together'),
          })
          .strict()
          .refine((e) => [e.dataset, e.text, e.tokenIds].filter((v) => v !== undefined).length === 1, {
            message: 'each evaluation needs exactly one of dataset, text or tokenIds',
          }),
      )
      .min(1)
      .max(16),
    ...RefParams,
  })
  .strict();
export type EvalPplParams = z.output<typeof EvalPplParams>;

/** Main thread, before the run exists: the model and every evaluation source must resolve. */
export function resolveEvalPpl(p: EvalPplParams, r: Resolver): { modelDir: string } {
  const modelDir = r.resolveModel(p.model);
  for (const [i, ev] of p.evaluations.entries()) checkSource(ev, r, `evaluations[${i}].`);
  return { modelDir };
}
