// moe-bench compress: run a compression pipeline (a config file, or the quick one-method form that
// builds the equivalent one-step config) as a stored run, and export the compressed checkpoint.
import path from 'node:path';
import type { Command } from 'commander';
import type { JobProgress } from '../../contract/index';
import { EngineError } from '../../engine/errors';
import { safeSegment } from '../../engine/io/path-confinement';
import type { CompressResult } from '../../engine/jobs/compress';
import { METHOD_IDS } from '../../engine/methods/catalog';
import { type PipelineConfig, parsePipelineConfig } from '../../engine/pipeline/config';
import { nonNegativeInt, positiveInt, unitFraction } from '../arg-parsers';
import { CliError, usageError } from '../cli-error';
import type { CliContext } from '../context';

interface CompressOptions {
  config?: string;
  out?: string;
  model?: string;
  method?: string;
  ratio?: number;
  calibDataset?: string;
  calibText?: string;
  calibSamples?: number;
  calibSeqLen?: number;
  seed?: number;
  format?: 'factored' | 'dense' | 'gptq';
  dataDir: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The one-step config the quick form stands for (kept in one place so both forms stay equivalent). */
export function quickConfig(o: CompressOptions): Record<string, unknown> {
  if (!o.model || !o.method || o.ratio === undefined)
    throw usageError('the quick form needs --model DIR --method NAME --ratio R (or use --config FILE)');
  if (!METHOD_IDS.includes(o.method))
    throw usageError(`unknown --method '${o.method}'; expected ${METHOD_IDS.join(', ')}`);
  if (o.calibDataset && o.calibText) throw usageError('give --calib-dataset or --calib-text, not both');
  const calibration: Record<string, unknown> = {};
  if (o.calibText) calibration.text = path.resolve(o.calibText);
  else if (o.calibDataset) calibration.dataset = o.calibDataset;
  if (o.calibSamples !== undefined) calibration.samples = o.calibSamples;
  if (o.calibSeqLen !== undefined) calibration.seqLen = o.calibSeqLen;
  if (o.seed !== undefined) calibration.seed = o.seed;
  return {
    version: 1,
    name: `${o.method}-${o.ratio}`,
    // as given: a folder path resolves against the working directory, a bare name may be a built-in
    model: o.model,
    calibration,
    target: { ratio: o.ratio },
    steps: [{ method: o.method, params: {} }],
    export: { format: o.format ?? 'factored' },
  };
}

function human(r: CompressResult): string {
  return [
    `run ${r.runId ?? '-'}: ${r.paramsBefore} → ${r.paramsAfter} params, achieved ratio ${r.achievedRatio.toFixed(4)}${r.targetRatio !== null ? ` (target ${r.targetRatio})` : ''}`,
    ...r.steps.map(
      (s, i) =>
        `  ${i + 1}. ${s.method}: ${
          s.noop
            ? 'no-op'
            : Object.entries(s.knobs)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')
        }`,
    ),
    ...r.warnings.map((w) => `warning: ${w}`),
    ...(r.speed
      ? [
          `speed: prefill ${r.speed.before.prefillTokensPerSecond.toFixed(0)} → ${r.speed.after.prefillTokensPerSecond.toFixed(0)} tok/s, decode ${r.speed.before.decodeTokensPerSecond.toFixed(1)} → ${r.speed.after.decodeTokensPerSecond.toFixed(1)} tok/s, FLOPs/token ${r.speed.before.flops.flopsPerToken.toExponential(3)} → ${r.speed.after.flops.flopsPerToken.toExponential(3)}`,
        ]
      : []),
    ...(r.mc ?? []).map(
      (t) =>
        `${t.task}: acc ${(t.acc * 100).toFixed(2)}%${t.acc_norm === undefined ? '' : `, acc_norm ${(t.acc_norm * 100).toFixed(2)}%`} (${t.n} docs)`,
    ),
    `${r.seconds.toFixed(1)} s, written to ${r.outDir}`,
  ].join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('compress')
    .description(
      'compress a model with a pipeline config (or one method with --model/--method/--ratio) and export it',
    )
    .option('--config <file>', 'pipeline config JSON (resources/pipelines/pipeline.schema.json)')
    .option('--out <dir>', 'output folder for the compressed checkpoint')
    .option('--model <dir>', 'quick form: model folder or built-in name')
    .option('--method <id>', `quick form: ${METHOD_IDS.join(' | ')}`)
    .option('--ratio <r>', 'quick form: whole-model compression ratio in [0, 1)', unitFraction)
    .option('--calib-dataset <name>', 'quick form: calibration dataset (default calib)')
    .option('--calib-text <file>', 'quick form: calibration text file')
    .option('--calib-samples <n>', 'quick form: calibration sequences', positiveInt)
    .option('--calib-seq-len <n>', 'quick form: tokens per calibration sequence', positiveInt)
    .option('--seed <s>', 'quick form: sampler seed (non-negative integer)', nonNegativeInt)
    .option('--format <f>', 'quick form: factored | dense | gptq export')
    .option('--data-dir <dir>', 'extra folder to search for built-in datasets (repeatable)', collect, [])
    .action(async (o: CompressOptions) => {
      let config: PipelineConfig;
      let base = process.cwd();
      if (o.config) {
        if (o.model || o.method || o.ratio !== undefined)
          throw usageError('--config cannot be combined with --model/--method/--ratio');
        const file = path.resolve(o.config);
        base = path.dirname(file);
        config = parsePipelineConfig(ctx.readJsonFile(file, 'pipeline config'), file);
      } else {
        config = parsePipelineConfig(quickConfig(o));
      }
      // refuse an unreachable budget before a run exists (shapes only, no tensor data)
      const { planPipeline } = await import('../../engine/pipeline/plan');
      const { resolveModelDir } = await import('../../engine/pipeline/model-ref');
      const plan = planPipeline(config, resolveModelDir(config.model, base));
      if (plan.problem) throw new EngineError(plan.problem, { field: 'target.ratio' });
      const raw = config as unknown as Record<string, unknown>;
      const name = config.name;
      const outDir = path.resolve(o.out ?? path.join('compressed', safeSegment(name)));
      const app = await ctx.app();
      const job = await app.handlers['jobs.start']({
        kind: 'compress',
        params: { config: raw, outDir, baseDir: base, dataDirs: o.dataDir.map((d) => path.resolve(d)) },
      });
      const off = app.on((event, data) => {
        const p = data as JobProgress;
        if (
          event === 'job.progress' &&
          p.jobId === job.jobId &&
          (ctx.globals().verbose || p.step !== 'propagate')
        ) {
          ctx.progress(
            `[run ${p.runId ?? '-'}] ${(p.fraction * 100).toFixed(0).padStart(3)}% ${p.step}${p.message ? `: ${p.message}` : ''}${p.etaSeconds === null ? '' : ` eta ${p.etaSeconds.toFixed(0)}s`}`,
          );
        }
      });
      const offInterrupt = ctx.onInterrupt(
        () => void app.handlers['jobs.cancel']({ jobId: job.jobId }),
        'cancelling… (finished layers are kept; run the same command again to resume)',
      );
      try {
        const finished = await app.waitForJob(job.jobId);
        if (finished.state !== 'succeeded')
          throw new CliError(`compress ${finished.state}${finished.error ? `: ${finished.error}` : ''}`);
        const r = finished.result as CompressResult;
        ctx.output(
          {
            runId: finished.runId,
            achievedRatio: r.achievedRatio,
            paramsBefore: r.paramsBefore,
            paramsAfter: r.paramsAfter,
            outDir: r.outDir,
            seconds: r.seconds,
            rank: r.rank,
            layers: r.layers,
            targetRatio: r.targetRatio,
            weightBytesBefore: r.weightBytesBefore,
            weightBytesAfter: r.weightBytesAfter,
            nonzerosBefore: r.nonzerosBefore,
            nonzerosAfter: r.nonzerosAfter,
            steps: r.steps,
            warnings: r.warnings,
            ...(r.ppl !== undefined ? { ppl: r.ppl } : {}),
            ...(r.tokensPerSecond !== undefined ? { tokensPerSecond: r.tokensPerSecond } : {}),
            ...(r.speed ? { speed: r.speed } : {}),
            ...(r.mc ? { mc: r.mc } : {}),
          },
          (d) => human({ ...r, runId: d.runId }),
        );
      } finally {
        off();
        offInterrupt();
      }
    });
}
