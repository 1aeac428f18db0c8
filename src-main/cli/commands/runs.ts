import { type Command, Option } from 'commander';
import { type RunDetail, RunStatus, type RunSummary } from '../../contract/index';
import { formatMetricValue } from '../../contract/metrics';
import { protocolText } from '../../contract/protocol';
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
    r.pipelineName ?? '-',
    r.backend ?? '-',
    r.createdAt.replace('T', ' ').slice(0, 19),
    fmtSeconds(r.seconds),
    Object.entries(r.headline)
      .map(([k, v]) => `${k}=${formatMetricValue(k, v).replaceAll(' ', '')}`)
      .join(' '),
  ]);
  const head = ['ID', 'KIND', 'STATUS', 'MODEL', 'PIPELINE', 'BACKEND', 'CREATED', 'TIME', 'HEADLINE'];
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
    ...(r.protocols ?? []).map((p, i) => `${i ? 'evaluation' : 'evaluation (primary)'}: ${protocolText(p)}`),
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
    .option(
      '--remove-artifacts',
      'also delete the export folder it wrote under the app home (default: keep files)',
    )
    .action(async (id: number, o: { removeArtifacts?: boolean }) => {
      const app = await ctx.app();
      const r = await app.handlers['runs.delete']({ id, artifacts: o.removeArtifacts ? 'remove' : 'keep' });
      ctx.output(r, () =>
        [
          `deleted run ${id}`,
          ...(r.removed ?? []).map((p) => `removed ${p}`),
          ...(r.kept ?? []).map((p) => `kept ${p}`),
        ].join('\n'),
      );
    });
}
