// The multiple-choice evaluation settings, declared once: the eval.mc job and a pipeline
// config's `evaluate.mc` both take them (so the CLI, the JSON Schema and the editor form agree).
import { z } from 'zod';
import { MC_TASKS } from './tasks';

export const McTask = z.enum(MC_TASKS).describe('lm-eval 0.4 task name');

export const McSettings = z
  .object({
    tasks: z
      .array(McTask)
      .min(1)
      .max(MC_TASKS.length)
      .refine((t) => new Set(t).size === t.length, { message: 'each task at most once' })
      .default([...MC_TASKS])
      .describe(
        'zero-shot multiple-choice tasks (docs/evaluation.md: Multiple choice), scored in this order',
      ),
    limit: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('score the first N documents of each task (the reference configs use 500); all when unset'),
    tokenBudget: z
      .number()
      .int()
      .min(16)
      .optional()
      .describe('padded tokens per forward pass (default: ≤ 16k and ≤ 256 MiB of hidden states)'),
  })
  .strict();
export type McSettings = z.output<typeof McSettings>;
