// A sweep's report (`moe-bench report --sweep ID`, the sweep page's report buttons): the sweep and
// its progress, then the surfaces of one metric — per ratio the simplex heatmaps, order sensitivity,
// best of single / pair / triple, the best strategy per compression level — as HTML (inline SVG, no
// scripts, nothing fetched), Markdown tables, or one long CSV in full precision.
import {
  bestOfTable,
  betterOf,
  type CsvValue,
  type ExportTable,
  orderSensitivityGrids,
  recordsTable,
  type SurfaceGrid,
  simplexGrids,
  strategyRows,
  strategyTable,
  sweepMetrics,
  tableCsv,
} from '../../contract/sweep-grid';
import { type SweepSurfaces, sweepSurfaces } from '../../contract/sweep-surfaces';
import type { SweepView } from '../../contract/sweeps';
import { EngineError } from '../../engine/errors';
import type { RenderedReport, ReportFormat } from './index';
import { esc } from './svg';
import { bestOfSvg, gridSvg, strategySvg } from './sweep-svg';

export const SWEEP_SECTIONS = [
  { id: 'summary', title: 'Sweep' },
  { id: 'simplex', title: 'Surfaces over the contribution simplex' },
  { id: 'order', title: 'Order sensitivity (A→B − B→A)' },
  { id: 'best-of', title: 'Best of single / pair / triple' },
  { id: 'best-strategy', title: 'Best strategy per compression level' },
] as const;

export interface SweepReportModel {
  view: SweepView;
  metric: string;
  better: 'lower' | 'higher';
  surfaces: SweepSurfaces;
  simplex: { ratio: number; grids: SurfaceGrid[] }[];
  order: SurfaceGrid[];
  generatedAt: string;
}

export function buildSweepReport(view: SweepView, metric?: string, now = new Date()): SweepReportModel {
  const available = sweepMetrics(view.points);
  const m = metric ?? available[0] ?? 'ppl';
  if (metric !== undefined && available.length > 0 && !available.includes(metric))
    throw new EngineError(
      `sweep ${view.sweep.id} has no metric '${metric}'; its points have ${available.join(', ')}`,
      {
        field: 'metric',
      },
    );
  const better = betterOf(m);
  const surfaces = sweepSurfaces(view.points, m, better);
  return {
    view,
    metric: m,
    better,
    surfaces,
    simplex: surfaces.ratios.map((ratio) => ({ ratio, grids: simplexGrids(surfaces, ratio) })),
    order: orderSensitivityGrids(surfaces, better),
    generatedAt: now.toISOString(),
  };
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}.muted{color:#666}.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #eee}`;

const htmlTable = (t: ExportTable) =>
  `<table><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${t.rows
    .map((r) => `<tr>${r.map((v) => `<td>${esc(v === null ? '—' : String(v))}</td>`).join('')}</tr>`)
    .join('')}</table>`;

const summaryRows = (m: SweepReportModel): [string, string][] => {
  const { sweep, progress } = m.view;
  return [
    ['sweep', `#${sweep.id} ${sweep.name}`],
    ['status', m.view.interrupted ? 'interrupted' : sweep.status],
    ['mode', sweep.mode ?? '—'],
    [
      'points',
      `${progress.total} (${progress.succeeded} succeeded, ${progress.reused} reused, ${progress.failed} failed, ${progress.refused} refused, ${progress.pending + progress.running} open)`,
    ],
    ['wall time', sweep.seconds === null ? '—' : `${sweep.seconds.toFixed(1)} s`],
    ['metric', `${m.metric} (${m.better} is better)`],
  ];
};

function renderSweepHtml(m: SweepReportModel): string {
  const title = `Sweep report: ${m.view.sweep.name}`;
  const empty = '<p class="muted">No succeeded points with this metric yet.</p>';
  const body: Record<(typeof SWEEP_SECTIONS)[number]['id'], string> = {
    summary: `<table>${summaryRows(m)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
      .join('')}</table>`,
    simplex: m.simplex.length
      ? m.simplex
          .map(
            (s) =>
              `<h3>ratio ${s.ratio}</h3><div class="charts">${s.grids.map((g) => gridSvg(g, m.better)).join('')}</div>`,
          )
          .join('')
      : empty,
    order: m.order.length
      ? `<p class="muted">${esc(m.order[0]!.note)}</p><div class="charts">${m.order.map((g) => gridSvg(g, m.better)).join('')}</div>`
      : '<p class="muted">No pair was run in both orders at the same shares.</p>',
    'best-of': m.surfaces.bestOf.length
      ? bestOfSvg(m.surfaces.bestOf, m.surfaces.ratios, m.metric) + htmlTable(bestOfTable(m.surfaces))
      : empty,
    'best-strategy': m.surfaces.bestStrategy.length
      ? strategySvg(strategyRows(m.surfaces), m.metric) + htmlTable(strategyTable(m.surfaces))
      : empty,
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1><p class="muted">MoE Workbench sweep report, generated ${esc(m.generatedAt)}.</p>
${SWEEP_SECTIONS.map((s) => `<section id="${s.id}"><h2>${esc(s.title)}</h2>${body[s.id]}</section>`).join('\n')}
</body></html>
`;
}

const mdField = (v: CsvValue) => (v === null ? '' : String(v)).replace(/\|/g, '\\|');
const mdTable = (t: ExportTable) =>
  [
    `| ${t.columns.join(' | ')} |`,
    `| ${t.columns.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(mdField).join(' | ')} |`),
  ].join('\n');

function renderSweepMarkdown(m: SweepReportModel): string {
  const out = [`# Sweep report: ${m.view.sweep.name}`, '', `Generated ${m.generatedAt}.`, '', '## Sweep', ''];
  out.push(mdTable({ columns: ['', ''], rows: summaryRows(m) }), '');
  out.push('## Best strategy per compression level', '', mdTable(strategyTable(m.surfaces)), '');
  out.push('## Best of single / pair / triple', '', mdTable(bestOfTable(m.surfaces)), '');
  for (const g of m.order)
    out.push(
      `## Order sensitivity: ${g.title}`,
      '',
      g.note,
      '',
      mdTable(recordsTable(g.cells.map((c) => c.fields))),
      '',
    );
  for (const s of m.simplex)
    for (const g of s.grids)
      out.push(
        `## ${g.title}`,
        '',
        ...(g.note ? [g.note, ''] : []),
        mdTable(recordsTable(g.cells.map((c) => c.fields))),
        '',
      );
  return `${out.join('\n')}\n`;
}

/** One long table: a `surface` column (grid id, best-of, best-strategy), then the union of fields. */
export function sweepCsvTable(m: SweepReportModel): ExportTable {
  const records: Record<string, CsvValue>[] = [];
  for (const s of m.simplex)
    for (const g of s.grids) for (const c of g.cells) records.push({ surface: g.id, ...c.fields });
  for (const g of m.order) for (const c of g.cells) records.push({ surface: g.id, ...c.fields });
  const add = (surface: string, t: ExportTable) => {
    for (const r of t.rows)
      records.push({ surface, ...Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? null])) });
  };
  add('best-of', bestOfTable(m.surfaces));
  add('best-strategy', strategyTable(m.surfaces));
  return recordsTable(records);
}

const MIME: Record<ReportFormat, string> = {
  html: 'text/html;charset=utf-8',
  md: 'text/markdown;charset=utf-8',
  csv: 'text/csv;charset=utf-8',
};

export function renderSweepReport(
  view: SweepView,
  format: ReportFormat,
  opts: { metric?: string; now?: Date } = {},
): RenderedReport {
  const m = buildSweepReport(view, opts.metric, opts.now);
  const content =
    format === 'html'
      ? renderSweepHtml(m)
      : format === 'md'
        ? renderSweepMarkdown(m)
        : tableCsv(sweepCsvTable(m));
  return {
    filename: `report-sweep-${view.sweep.id}-${m.metric.replace(/[^\w.-]+/g, '_')}.${format}`,
    mime: MIME[format],
    content,
  };
}
