import { z } from 'zod';

export const GemmParams = z
  .object({
    /** square matrix sizes N (an N x N by N x N product each) */
    sizes: z.array(z.number().int().min(8).max(4096)).min(1).max(16).default([256, 512, 1024]),
    /** measuring time per size, after one warm-up product */
    seconds: z.number().positive().max(600).default(1),
  })
  .strict();
export type GemmParams = z.output<typeof GemmParams>;
