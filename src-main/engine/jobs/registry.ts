// Job kinds: kind -> worker module loader + params schema. Imported on the main thread, so it never
// pulls in tfjs: `load` is a lazy import that only an engine worker calls. Written as a literal
// `import('./file')` so the bundler (electron-vite) emits the job code next to the worker; a new
// job kind is one module (exporting `run(ctx, params)`), its params schema, and one line in JOBS.
import type { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { ANALYSIS_PARAMS, resolveAnalysis } from './analysis.params';
import { CompressParams, compressResumeKey, resolveCompress } from './compress.params';
import { GemmParams } from './diagnostics-gemm.params';
import { EvalLogitsParams, resolveEvalLogits } from './eval-logits.params';
import { EvalMcParams, resolveEvalMc } from './eval-mc.params';
import { EvalPplParams, resolveEvalPpl } from './eval-ppl.params';
import { EvalSpeedParams, resolveEvalSpeed } from './eval-speed.params';
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
  /**
   * Jobs that keep work state between attempts (compress: the work folder): what makes two starts
   * the same work. A start whose key matches an unfinished (failed, cancelled, interrupted) run of
   * the kind continues that run, so one run holds every layer record however often it was resumed.
   */
  resumeKey?: (params: never) => string;
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
    resumeKey: compressResumeKey,
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
    kind: 'eval.speed',
    title: 'Speed and size',
    load: () => import('./eval-speed'),
    params: EvalSpeedParams,
    createsRun: true,
    resolve: resolveEvalSpeed,
  },
  {
    kind: 'eval.mc',
    title: 'Multiple-choice accuracy',
    load: () => import('./eval-mc'),
    params: EvalMcParams,
    createsRun: true,
    resolve: resolveEvalMc,
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
  // the sensitivity analyses (docs/analyses.md): one module, one run function per kind
  ...(
    [
      [
        'sensitivity',
        'Per-layer sensitivity',
        async () => ({ run: (await import('./analysis')).runSensitivity }),
      ],
      [
        'routing',
        'Routing frequency and coverage',
        async () => ({ run: (await import('./analysis')).runRouting }),
      ],
      ['similarity', 'Expert similarity', async () => ({ run: (await import('./analysis')).runSimilarity })],
      ['energy', 'Energy retained vs rank', async () => ({ run: (await import('./analysis')).runEnergy })],
      ['entropy', 'Router entropy', async () => ({ run: (await import('./analysis')).runEntropy })],
    ] as const
  ).map(
    ([k, title, load]): JobDefinition => ({
      kind: `analysis.${k}`,
      title,
      load: load as unknown as () => Promise<JobModule<never>>,
      params: ANALYSIS_PARAMS[k],
      createsRun: true,
      resolve: resolveAnalysis as JobDefinition['resolve'],
    }),
  ),
]);
