import { z } from 'zod';

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
              .describe('built-in dataset name (heldout, wikitext2, …) or a data file'),
            seqLen: z.number().int().min(2).max(32768).default(2048),
            maxWindows: z.number().int().min(1).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(16),
    baseDir: z.string().optional().describe('folder relative model / data paths are resolved against'),
    dataDirs: z.array(z.string()).default([]),
  })
  .strict();
export type EvalPplParams = z.output<typeof EvalPplParams>;
