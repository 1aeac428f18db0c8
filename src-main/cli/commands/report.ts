// moe-bench report RUN… --format html|md|csv --out FILE: one run, or a comparison with deltas to a
// baseline (the first run unless --baseline), written as one self-contained file (app/report/);
// `report --sweep ID` writes a sweep's surfaces instead (app/report/sweep-report.ts).
import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { positiveInt } from '../arg-parsers';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description(
      'write a report of stored runs (config diff, metrics with deltas, per-layer tables, analyses) or of a sweep (--sweep: its surfaces)',
    )
    .argument(
      '[runs...]',
      'run ids (moe-bench runs list); the first is the baseline unless --baseline',
      (v: string, prev: number[] = []) => [...prev, positiveInt(v)],
      [] as number[],
    )
    .addOption(new Option('--format <f>', 'report format').choices(['html', 'md', 'csv']).default('html'))
    .option('--baseline <id>', 'run the deltas are taken against', positiveInt)
    .option(
      '--sweep <id>',
      'report a sweep instead: its surfaces (simplex, order sensitivity, best of, best strategy)',
      positiveInt,
    )
    .option('--metric <name>', 'with --sweep: the metric the surfaces show (default ppl)')
    .requiredOption('--out <file>', 'file to write')
    .action(
      async (
        ids: number[],
        o: { format: 'html' | 'md' | 'csv'; baseline?: number; out: string; sweep?: number; metric?: string },
      ) => {
        if (o.sweep !== undefined) {
          if (ids.length || o.baseline !== undefined)
            throw usageError('--sweep reports one sweep: give no run ids and no --baseline');
          const app = await ctx.app();
          const r = await app.handlers['sweeps.report']({
            id: o.sweep,
            format: o.format,
            ...(o.metric ? { metric: o.metric } : {}),
          });
          const out = path.resolve(o.out);
          fs.mkdirSync(path.dirname(out), { recursive: true });
          fs.writeFileSync(out, r.content);
          ctx.output(
            { out, format: o.format, sweep: o.sweep, bytes: Buffer.byteLength(r.content) },
            (x) => `${x.format} report of sweep ${x.sweep} -> ${x.out}`,
          );
          return;
        }
        if (o.metric !== undefined) throw usageError('--metric goes with --sweep');
        if (ids.length === 0) throw usageError('give run ids (moe-bench runs list) or --sweep ID');
        if (o.baseline !== undefined && !ids.includes(o.baseline))
          throw usageError(`--baseline ${o.baseline} must be one of the runs given (${ids.join(', ')})`);
        const app = await ctx.app();
        const r = await app.handlers['runs.report']({
          ids,
          format: o.format,
          ...(o.baseline !== undefined ? { baseline: o.baseline } : {}),
        });
        const out = path.resolve(o.out);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, r.content);
        ctx.output(
          { out, format: o.format, runs: ids, bytes: Buffer.byteLength(r.content) },
          (x) => `${x.format} report of runs ${x.runs.join(', ')} -> ${x.out}`,
        );
      },
    );
}
