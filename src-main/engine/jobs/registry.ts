// Job kinds: kind -> worker module loader + params schema. Imported on the main thread, so it never
// pulls in tfjs: `load` is a lazy import that only an engine worker calls. Written as a literal
// `import('./file')` so the bundler (electron-vite) emits the job code next to the worker; a new
// job kind is one module (exporting `run(ctx, params)`), its params schema, and one line in JOBS.
import type { z } from 'zod';
import { CompressParams } from './compress.params';
import { GemmParams } from './diagnostics-gemm.params';
import { EvalPplParams } from './eval-ppl.params';
import type { JobModule } from './job-context';

export interface JobDefinition {
  kind: string;
  title: string;
  /**
   * Loads the worker-side module. Built-in jobs use this: the worker finds the definition by kind
   * in JOBS and calls it, which works from sources (tsx) and from the bundle alike.
   */
  load?: () => Promise<JobModule<never>>;
  /**
   * File URL of the worker-side module, for jobs outside JOBS (tests, plugins): loaded by URL, so
   * it must exist on disk as something the worker can import.
   */
  module?: string;
  params: z.ZodType;
  /** whether the job creates and owns a run row of the same kind */
  createsRun: boolean;
}

export type JobRegistry = ReadonlyMap<string, JobDefinition>;

export function jobRegistry(defs: readonly JobDefinition[]): JobRegistry {
  for (const d of defs) {
    if (!d.load === !d.module) throw new Error(`job '${d.kind}' needs exactly one of load() or module`);
  }
  return new Map(defs.map((d) => [d.kind, d]));
}

export const JOBS: JobRegistry = jobRegistry([
  {
    kind: 'diagnostics.gemm',
    title: 'GEMM throughput',
    load: () => import('./diagnostics-gemm'),
    params: GemmParams,
    createsRun: true,
  },
  {
    kind: 'compress',
    title: 'Compress a model',
    load: () => import('./compress'),
    params: CompressParams,
    createsRun: true,
  },
  {
    kind: 'eval.ppl',
    title: 'Perplexity',
    load: () => import('./eval-ppl'),
    params: EvalPplParams,
    createsRun: true,
  },
]);
