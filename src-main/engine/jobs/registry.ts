// Job kinds: kind -> worker module loader + params schema. Imported on the main thread, so it never
// pulls in tfjs: `load` is a lazy import that only an engine worker calls. Written as a literal
// `import('./file')` so the bundler (electron-vite) emits the job code next to the worker; a new
// job kind is one module (exporting `run(ctx, params)`), its params schema, and one line in JOBS.
import type { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { CompressParams, resolveCompress } from './compress.params';
import { GemmParams } from './diagnostics-gemm.params';
import { EvalLogitsParams, resolveEvalLogits } from './eval-logits.params';
import { EvalPplParams, resolveEvalPpl } from './eval-ppl.params';
import { ExportParams, resolveExport } from './export.params';
import type { JobModule } from './job-context';
import { resolveTokenize, TokenizeParams } from './tokenize.params';

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
  /**
   * For jobs that name models or data sets (params with refs.params.ts's fields): resolves every
   * reference on the main thread, after the app's roots are filled in and before the run row is
   * created, so a bad reference fails the start and leaves no run. Throws EngineError; returns the
   * model folder (the run is linked to the store's model of that folder, if any).
   */
  resolve?: (params: never, resolver: Resolver) => { modelDir: string | null };
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
    resolve: resolveCompress,
  },
  {
    kind: 'eval.ppl',
    title: 'Perplexity',
    load: () => import('./eval-ppl'),
    params: EvalPplParams,
    createsRun: true,
    resolve: resolveEvalPpl,
  },
  {
    kind: 'eval.logits',
    title: 'Logits of one sequence',
    load: () => import('./eval-logits'),
    params: EvalLogitsParams,
    createsRun: true,
    resolve: resolveEvalLogits,
  },
  {
    kind: 'tokenize',
    title: 'Tokenize',
    load: () => import('./tokenize'),
    params: TokenizeParams,
    createsRun: true,
    resolve: resolveTokenize,
  },
  {
    kind: 'export',
    title: 'Export a checkpoint',
    load: () => import('./export'),
    params: ExportParams,
    createsRun: true,
    resolve: resolveExport,
  },
]);
