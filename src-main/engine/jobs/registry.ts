// Job kinds: kind -> worker module + params schema. Imported on the main thread, so it never pulls
// in tfjs: the module is only loaded, by URL, inside an engine worker. A new job kind is one module
// (exporting `run(ctx, params)`), its params schema, and one line in JOBS.
import type { z } from 'zod';
import { GemmParams } from './diagnostics-gemm.params';

export interface JobDefinition {
  kind: string;
  title: string;
  /** file URL of the worker-side module exporting `run(ctx, params)` */
  module: string;
  params: z.ZodType;
  /** whether the job creates and owns a run row of the same kind */
  createsRun: boolean;
}

export type JobRegistry = ReadonlyMap<string, JobDefinition>;

const here = (file: string) => new URL(file, import.meta.url).href;

export function jobRegistry(defs: readonly JobDefinition[]): JobRegistry {
  return new Map(defs.map((d) => [d.kind, d]));
}

export const JOBS: JobRegistry = jobRegistry([
  {
    kind: 'diagnostics.gemm',
    title: 'GEMM throughput',
    module: here('./diagnostics-gemm.ts'),
    params: GemmParams,
    createsRun: true,
  },
]);
