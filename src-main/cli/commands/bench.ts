import type { Command } from 'commander';
import type { JobProgress, RunDetail } from '../../contract/index';
import { positiveIntList, positiveNumber } from '../arg-parsers';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

function progressLine(p: JobProgress): string {
  const pct = `${(p.fraction * 100).toFixed(0)}%`.padStart(4);
  const eta = p.etaSeconds === null ? '' : ` eta ${p.etaSeconds.toFixed(0)}s`;
  return `[run ${p.runId ?? '-'}] ${pct} ${p.step}${p.message ? `: ${p.message}` : ''}${eta}`;
}

function human(r: RunDetail): string {
  const rows = r.metrics.map((m) => `  ${m.name.padEnd(14)} ${m.value.toFixed(2)} ${m.unit ?? ''}`);
  return [`run ${r.id} (${r.kind}) ${r.status} on backend ${r.backend ?? '?'}`, ...rows].join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  const bench = program
    .command('bench')
    .description('measure the compute backend; results are stored as runs');
  bench
    .command('gemm')
    .description('GEMM throughput (GFLOP/s) of the active backend for square sizes')
    .option('--sizes <list>', 'comma-separated matrix sizes', positiveIntList, [256, 512, 1024])
    .option('--seconds <s>', 'measuring time per size', positiveNumber, 1)
    .action(async (o: { sizes: number[]; seconds: number }) => {
      const app = await ctx.app();
      const job = await app.handlers['jobs.start']({
        kind: 'diagnostics.gemm',
        params: { sizes: o.sizes, seconds: o.seconds },
      });
      const off = app.on((event, data) => {
        if (event === 'job.progress' && (data as JobProgress).jobId === job.jobId)
          ctx.progress(progressLine(data as JobProgress));
      });
      const offInterrupt = ctx.onInterrupt(
        () => void app.handlers['jobs.cancel']({ jobId: job.jobId }),
        'cancelling…',
      );
      try {
        const finished = await app.waitForJob(job.jobId);
        const run = await app.handlers['runs.get']({ id: finished.runId! });
        ctx.output(run, human);
        if (finished.state !== 'succeeded') {
          throw new CliError(
            `gemm benchmark ${finished.state}${finished.error ? `: ${finished.error}` : ''}`,
          );
        }
      } finally {
        off();
        offInterrupt();
      }
    });
}
