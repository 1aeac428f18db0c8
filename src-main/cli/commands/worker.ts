// moe-bench worker --redis URL: compute sweep points for any coordinator on that Redis, with this
// machine's models and data (built-ins, --model-root/--data-root, MOE_MODELS_DIR/MOE_DATA_DIR).
// Runs until SIGINT/SIGTERM; a point in progress at that moment is handed back to the queue.
import path from 'node:path';
import type { Command } from 'commander';
import { positiveInt } from '../arg-parsers';
import type { CliContext } from '../context';
import { untilStopped } from '../interrupts';

interface WorkerFlags {
  redis: string;
  prefix?: string;
  concurrency: number;
  modelRoot: string[];
  dataRoot: string[];
  lockMs?: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];
const addRoots = (name: 'MOE_MODELS_DIR' | 'MOE_DATA_DIR', dirs: string[]) => {
  if (dirs.length === 0) return;
  process.env[name] = [
    ...dirs.map((d) => path.resolve(d)),
    ...(process.env[name] ? [process.env[name]] : []),
  ].join(path.delimiter);
};

export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description('compute sweep points from a Redis queue (see `moe-bench sweep run --redis`)')
    .requiredOption('--redis <url>', 'the coordinator’s Redis (redis://HOST:PORT)')
    .option('--prefix <p>', 'Redis key prefix (default moe)')
    .option('--concurrency <n>', 'points computed at once', positiveInt, 1)
    .option(
      '--model-root <dir>',
      'folder whose subfolders are models named by sweep configs (repeatable)',
      collect,
      [],
    )
    .option('--data-root <dir>', 'folder holding data sets named by sweep configs (repeatable)', collect, [])
    .option(
      '--lock-ms <ms>',
      'how long a point stays claimed without a heartbeat before another worker takes it',
      positiveInt,
    )
    .action(async (o: WorkerFlags) => {
      addRoots('MOE_MODELS_DIR', o.modelRoot);
      addRoots('MOE_DATA_DIR', o.dataRoot);
      const app = await ctx.app();
      app.setJobConcurrency(o.concurrency);
      const { startWorker } = await import('../../sweep/redis-worker');
      const w = await startWorker(app, {
        url: o.redis,
        ...(o.prefix ? { prefix: o.prefix } : {}),
        concurrency: o.concurrency,
        ...(o.lockMs ? { lockMs: o.lockMs } : {}),
        log: (l) => ctx.progress(l),
      });
      const sig = await untilStopped(ctx, 'stopping the worker…');
      ctx.progress(`${sig}: worker ${w.id} stopping after ${w.processed()} points`);
      await w.close();
      ctx.output(
        { worker: w.id, processed: w.processed() },
        (r) => `worker ${r.worker}: ${r.processed} points`,
      );
    });
}
