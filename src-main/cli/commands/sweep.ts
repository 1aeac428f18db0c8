// moe-bench sweep plan|run|status|cancel|resume: sweeps over ratio × contributions × order (and
// method parameters), run on this machine's worker pool or on `moe-bench worker`s through Redis.
import path from 'node:path';
import type { Command } from 'commander';
import type { SweepProgress } from '../../sweep/coordinator';
import { positiveInt } from '../arg-parsers';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';

interface RunOptions {
  workers?: number;
  redis?: string;
  prefix?: string;
}

const line = (p: SweepProgress) =>
  `[sweep ${p.sweepId}] ${p.succeeded + p.failed + p.refused + p.cancelled}/${p.total} settled: ${p.succeeded} succeeded (${p.reused} reused), ${p.running} running, ${p.failed} failed, ${p.refused} refused, ${p.cancelled} cancelled`;

function execution(o: RunOptions) {
  if (o.workers !== undefined && o.redis !== undefined)
    throw usageError('give --workers N or --redis URL, not both');
  return o.redis !== undefined
    ? { redis: { url: o.redis, ...(o.prefix ? { prefix: o.prefix } : {}) } }
    : { workers: o.workers ?? 1 };
}

async function runAndReport(ctx: CliContext, sweepId: number, o: RunOptions): Promise<void> {
  const app = await ctx.app();
  const t0 = performance.now();
  let last = '';
  const offInterrupt = ctx.onInterrupt(
    () => app.sweeps.cancel(sweepId),
    `cancelling sweep ${sweepId}… (running points stop, finished ones stay stored)`,
  );
  try {
    const p = await app.sweeps.run(sweepId, {
      ...execution(o),
      onProgress: (p) => {
        const l = line(p);
        if (l !== last) ctx.progress(l);
        last = l;
      },
    });
    const v = app.sweeps.get(sweepId);
    ctx.output(
      { ...p, status: v.sweep.status, seconds: (performance.now() - t0) / 1000, mode: v.sweep.mode },
      (r) => `${line(r)}\nsweep ${sweepId} ${r.status} in ${r.seconds.toFixed(1)} s (${r.mode})`,
    );
  } finally {
    offInterrupt();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const sweep = program
    .command('sweep')
    .description('sweeps over ratio × contributions × order (docs/sweeps.md)');
  const runFlags = (c: Command) =>
    c
      .option('--workers <n>', 'local worker pool size (capped by free memory); default 1', positiveInt)
      .option(
        '--redis <url>',
        'distribute to `moe-bench worker`s through BullMQ on this Redis (redis://HOST:PORT)',
      )
      .option('--prefix <p>', 'Redis key prefix (default moe)');

  sweep
    .command('plan <spec>')
    .description('expand a sweep spec and plan every point (shapes only, nothing runs)')
    .action(async (file: string) => {
      const f = path.resolve(file);
      const app = await ctx.app();
      const plan = app.sweeps.plan(ctx.readJsonFile(f, 'sweep spec'), f);
      ctx.output(plan, (p) =>
        [
          `${p.name}: ${p.count} runs (${p.toCompute} to compute)`,
          ...p.items.map(
            (i) =>
              `  ${i.hash.slice(0, 10)}  ${i.label}${i.reusedRun !== null ? `  (reuses run ${i.reusedRun})` : ''}${i.problem ? `  REFUSED: ${i.problem}` : ''}`,
          ),
        ].join('\n'),
      );
    });

  runFlags(
    sweep
      .command('run <spec>')
      .description('store the sweep and compute every point; identical configs already stored are reused'),
  ).action(async (file: string, o: RunOptions) => {
    const f = path.resolve(file);
    execution(o);
    const app = await ctx.app();
    const s = app.sweeps.create(ctx.readJsonFile(f, 'sweep spec'), f);
    ctx.progress(`sweep ${s.id}: ${app.sweeps.get(s.id).progress.total} points`);
    await runAndReport(ctx, s.id, o);
  });

  runFlags(
    sweep.command('resume <id>').description('continue a stopped sweep: compute the points without a result'),
  ).action(async (id: string, o: RunOptions) => {
    await runAndReport(ctx, positiveInt(id), o);
  });

  sweep
    .command('status [id]')
    .description('every sweep, or one with its points')
    .action(async (id?: string) => {
      const app = await ctx.app();
      if (id === undefined) {
        const all = app.sweeps.list().map((s) => ({ ...s, progress: app.sweeps.get(s.id).progress }));
        ctx.output(all, (xs) =>
          xs.length === 0
            ? 'no sweeps'
            : xs.map((s) => `${s.id}  ${s.status.padEnd(11)} ${s.name}  ${line(s.progress)}`).join('\n'),
        );
        return;
      }
      const v = app.sweeps.get(positiveInt(id));
      ctx.output(v, (x) =>
        [
          `sweep ${x.sweep.id} ${x.interrupted ? 'interrupted (its process is gone; `sweep resume` continues it)' : x.sweep.status}: ${x.sweep.name}`,
          line(x.progress),
          ...x.points.map(
            (p) =>
              `  ${p.status.padEnd(9)} ${p.label}${p.runId !== null ? `  run ${p.runId}` : ''}${p.reused ? ' (reused)' : ''}${p.metrics.ppl !== undefined ? `  ppl ${p.metrics.ppl.toFixed(2)}` : ''}${p.error ? `  ${p.error}` : ''}`,
          ),
        ].join('\n'),
      );
    });

  sweep
    .command('cancel <id>')
    .description('ask the process running a sweep to stop (finished points stay stored)')
    .action(async (id: string) => {
      const app = await ctx.app();
      const n = positiveInt(id);
      const asked = app.sweeps.cancel(n);
      ctx.output({ sweepId: n, cancelRequested: asked }, (r) =>
        r.cancelRequested ? `sweep ${r.sweepId}: cancel requested` : `sweep ${r.sweepId} is not running`,
      );
    });
}
