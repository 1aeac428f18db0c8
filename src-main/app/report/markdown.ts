// The Markdown report: the HTML report's sections as GitHub tables (no charts; the analyses as
// their per-layer tables).
import type { ReportModel } from './report-model';
import { formatCell, formatDelta, formatMetric, SECTIONS, scalarColumns } from './report-text';

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(cols: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (c: readonly string[]) => `| ${c.map(md).join(' | ')} |`;
  return [
    line(cols),
    `|${cols.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export function renderMarkdown(m: ReportModel): string {
  const many = m.runs.length > 1;
  const out: string[] = [
    `# ${m.title}`,
    '',
    `Generated ${m.generatedAt}${many ? `; deltas against run ${m.runs[m.baseline]!.id}` : ''}.`,
  ];
  const section = (id: (typeof SECTIONS)[number]['id'], body: string) =>
    out.push('', `## ${SECTIONS.find((s) => s.id === id)!.title}`, '', body);
  section(
    'summary',
    table(
      ['run', 'kind', 'status', 'model', 'methods', 'time'],
      m.runs.map((r, i) => [
        `${r.id}${many && i === m.baseline ? ' (baseline)' : ''}`,
        r.kind,
        r.status,
        r.model ?? '—',
        r.methods.join(' + ') || '—',
        r.seconds === null ? '—' : `${r.seconds.toFixed(1)} s`,
      ]),
    ),
  );
  const cfg = many ? m.config.filter((c) => c.differs) : m.config;
  section(
    'config',
    cfg.length === 0
      ? many
        ? 'The runs have the same configuration.'
        : 'No configuration stored.'
      : table(
          ['setting', ...m.runs.map((r) => `run ${r.id}`)],
          cfg.map((c) => [c.path, ...c.values.map((v) => v ?? '—')]),
        ),
  );
  section(
    'metrics',
    m.metrics.length === 0
      ? 'No metrics recorded.'
      : table(
          [
            'metric',
            'dataset',
            ...m.runs.flatMap((r, i) => (many && i !== m.baseline ? [`run ${r.id}`, 'Δ'] : [`run ${r.id}`])),
          ],
          m.metrics.map((row) => [
            row.label,
            row.dataset ?? '',
            ...row.values.flatMap((v, i) =>
              many && i !== m.baseline
                ? [formatMetric(row, v), formatDelta(row, row.deltas[i] ?? null, row.relative[i] ?? null)]
                : [formatMetric(row, v)],
            ),
          ]),
        ),
  );
  section('charts', 'Charts are in the HTML report (`--format html`).');
  section(
    'layers',
    m.layers.length === 0
      ? 'No layer records.'
      : m.layers
          .map(
            (t) =>
              `### Run ${t.runId}, step ${t.step}\n\n${table(
                ['layer', ...t.columns],
                t.rows.map((r) => [String(r.layer), ...r.values.map(formatCell)]),
              )}`,
          )
          .join('\n\n'),
  );
  section(
    'analyses',
    m.analyses.length === 0
      ? 'None of these runs holds a sensitivity analysis.'
      : m.analyses
          .map((a) => {
            const keys = scalarColumns(a.records);
            return `### ${a.title} (run ${a.runId})\n\n${table(
              ['layer', ...keys],
              a.records.map((r) => [
                String(r.layer),
                ...keys.map((k) => formatCell((r as unknown as Record<string, never>)[k])),
              ]),
            )}`;
          })
          .join('\n\n'),
  );
  return `${out.join('\n')}\n`;
}
