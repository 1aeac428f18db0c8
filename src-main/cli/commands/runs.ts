import { type Command, Option } from 'commander';
import { type RunDetail, RunStatus, type RunSummary } from '../../contract/index';
import { formatMetricValue } from '../../contract/metrics';
import { formatBytes } from '../../contract/units';
import { positiveInt } from '../arg-parsers';
import type { CliContext } from '../context';

const fmtSeconds = (s: number | null) => (s === null ? '-' : `${s.toFixed(1)}s`);

function table(runs: RunSummary[]): string {
  if (!runs.length) return 'no runs';
  const rows = runs.map((r) => [
    String(r.id),
    r.kind,
    r.status,
    r.modelName ?? '-',
    r.backend ?? '-',
    r.createdAt.replace('T', ' ').slice(0, 19),
    fmtSeconds(r.seconds),
    Object.entries(r.headline)
      .map(([k, v]) => `${k}=${formatMetricValue(k, v).replaceAll(' ', '')}`)
      .join(' '),
  ]);
  const head = ['ID', 'KIND', 'STATUS', 'MODEL', 'BACKEND', 'CREATED', 'TIME', 'HEADLINE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function detail(r: RunDetail): string {
  const lines = [
    `run ${r.id}: ${r.kind} ${r.status}${r.error ? ` (${r.error})` : ''}`,
    `model: ${r.modelName ?? '-'}  pipeline: ${r.pipelineName ?? '-'}  seed: ${r.seed ?? '-'}  backend: ${r.backend ?? '-'}`,
    `created ${r.createdAt}  started ${r.startedAt ?? '-'}  finished ${r.finishedAt ?? '-'}  (${fmtSeconds(r.seconds)})`,
    `config: ${JSON.stringify(r.config)}`,
  ];
  if (r.metrics.length) {
    lines.push('metrics:');
    for (const m of r.metrics) {
      lines.push(
        `  ${m.name} = ${formatMetricValue(m.name, m.value, m.unit)}${m.dataset ? ` [${m.dataset}]` : ''}`,
      );
    }
  }
  if (r.layers.length)
    lines.push(`layers recorded: ${r.layers.length} (last ${r.layers[r.layers.length - 1]!.layer})`);
  for (const a of r.artifacts) lines.push(`artifact: ${a.kind} ${a.path} (${formatBytes(a.bytes)})`);
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('list, show and delete runs in the store');
  runs
    .command('list')
    .description('list runs, newest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RunStatus.options))
    .option('--limit <n>', 'at most this many runs', positiveInt)
    .action(async (o: { status?: RunStatus; limit?: number }) => {
      const app = await ctx.app();
      ctx.output(await app.handlers['runs.list']({ status: o.status, limit: o.limit }), table);
    });
  runs
    .command('show')
    .description('show one run: config, metrics, layers, artifacts')
    .argument('<id>', 'run id', positiveInt)
    .action(async (id: number) => {
      const app = await ctx.app();
      ctx.output(await app.handlers['runs.get']({ id }), detail);
    });
  runs
    .command('delete')
    .description('delete a finished run and everything it recorded')
    .argument('<id>', 'run id', positiveInt)
    .action(async (id: number) => {
      const app = await ctx.app();
      ctx.output(await app.handlers['runs.delete']({ id }), () => `deleted run ${id}`);
    });
}
