// Settings of the speed & size measurement (METHODS §8.3), declared once: the eval.speed job, the
// CLI flags and the pipeline config's `evaluate.speed` all read this schema (tfjs-free).
import { z } from 'zod';

export const SpeedSettings = z
  .object({
    promptLen: z
      .number()
      .int()
      .min(1)
      .max(32768)
      .default(512)
      .describe('prompt tokens per sequence (random ids, seeded; D²-MoE uses 512)'),
    genLen: z
      .number()
      .int()
      .min(2)
      .max(4096)
      .default(128)
      .describe('tokens generated greedily per sequence, no stop at EOS (D²-MoE uses 128)'),
    batch: z.number().int().min(1).max(64).default(1).describe('sequences generated together'),
    seed: z.number().int().min(0).default(0).describe('seed of the random prompt ids'),
  })
  .strict();
export type SpeedSettings = z.output<typeof SpeedSettings>;
