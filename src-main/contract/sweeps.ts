// Sweeps on the wire: the stored sweep, its points (each an ordinary run once computed) with their
// runs' metrics, progress, and the plan of a spec. docs/sweeps.md describes the spec.
import { z } from 'zod';

export const SweepStatus = z.enum(['planned', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);
export const SweepPointStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'refused']);

export const SweepRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  spec: z.unknown(),
  status: SweepStatus,
  mode: z.string().nullable(),
  ownerPid: z.number().int().nullable(),
  cancelRequested: z.boolean(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  seconds: z.number().nullable(),
});
export type SweepRecord = z.infer<typeof SweepRecord>;

export const SweepProgress = z.object({
  sweepId: z.number().int(),
  total: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  refused: z.number().int(),
  cancelled: z.number().int(),
  running: z.number().int(),
  pending: z.number().int(),
  reused: z.number().int(),
});
export type SweepProgress = z.infer<typeof SweepProgress>;

export const SweepPoint = z.object({
  id: z.number().int(),
  sweepId: z.number().int(),
  index: z.number().int(),
  hash: z.string(),
  label: z.string(),
  ratio: z.number(),
  contributions: z.record(z.string(), z.number()),
  order: z.array(z.string()),
  params: z.record(z.string(), z.unknown()),
  config: z.unknown(),
  status: SweepPointStatus,
  runId: z.number().int().nullable(),
  reused: z.boolean(),
  attempts: z.number().int(),
  worker: z.string().nullable(),
  error: z.string().nullable(),
  seconds: z.number().nullable(),
  /** the run's metrics, first value per name and per name@dataset */
  metrics: z.record(z.string(), z.number()),
});
export type SweepPoint = z.infer<typeof SweepPoint>;

export const SweepView = z.object({
  sweep: SweepRecord,
  /** the coordinating process is gone while the sweep says running */
  interrupted: z.boolean(),
  progress: SweepProgress,
  points: z.array(SweepPoint),
});
export type SweepView = z.infer<typeof SweepView>;

export const SweepPlan = z.object({
  name: z.string(),
  count: z.number().int(),
  toCompute: z.number().int(),
  items: z.array(
    z.object({
      hash: z.string(),
      label: z.string(),
      ratio: z.number(),
      contributions: z.record(z.string(), z.number()),
      order: z.array(z.string()),
      params: z.record(z.string(), z.unknown()),
      problem: z.string().nullable(),
      reusedRun: z.number().int().nullable(),
    }),
  ),
});
export type SweepPlan = z.infer<typeof SweepPlan>;

export const SweepStart = z
  .object({
    spec: z.unknown().optional().describe('a sweep spec to store and run'),
    id: z.number().int().positive().optional().describe('a stored sweep to resume'),
    workers: z.number().int().positive().max(64).optional(),
    redis: z.string().min(1).optional().describe('redis://HOST:PORT: distribute to `moe-bench worker`s'),
  })
  .strict();
