// The HTML report: one self-contained file (inline CSS and SVG; a CSP that forbids every fetch and
// script), sections in a fixed order, each with an id the e2e test checks: summary, config,
// metrics, charts, layers, analyses.
import type { AnalysisSection, ReportModel } from './report-model';
import { runLabel } from './report-model';
import { formatCell, formatDelta, formatMetric, SECTIONS, scalarColumns } from './report-text';
import { barChart, esc, heatmap, lineChart, type Series } from './svg';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}
tr.differs td{background:#fffbe6}.pos{color:#15803d}.neg{color:#b91c1c}.muted{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #eee;background:#fff}
svg text{font:11px system-ui,sans-serif;fill:#222}svg text.t{font-weight:600;font-size:12px}svg text.m{fill:#666}
svg .ax{stroke:#999;stroke-width:1}.scroll{overflow-x:auto}
`;

const cell = (s: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(s)}</td>`;
const head = (cols: readonly string[]) => `<tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;

function summary(m: ReportModel): string {
  const rows = m.runs.map((r, i) =>
    [
      cell(`${r.id}${i === m.baseline && m.runs.length > 1 ? ' (baseline)' : ''}`),
      cell(r.kind),
      cell(r.status),
      cell(r.model ?? '—'),
      cell(r.methods.join(' + ') || '—'),
      cell(r.backend ?? '—'),
      cell(r.seconds === null ? '—' : `${r.seconds.toFixed(1)} s`),
      cell(r.createdAt.replace('T', ' ').slice(0, 19)),
    ].join(''),
  );
  return table(['run', 'kind', 'status', 'model', 'methods', 'backend', 'time', 'created'], rows);
}

function table(cols: readonly string[], rows: readonly string[], rowClass: readonly string[] = []): string {
  return `<div class="scroll"><table>${head(cols)}${rows.map((r, i) => `<tr${rowClass[i] ? ` class="${rowClass[i]}"` : ''}>${r}</tr>`).join('')}</table></div>`;
}

function config(m: ReportModel): string {
  const many = m.runs.length > 1;
  const rows = many ? m.config.filter((c) => c.differs) : m.config;
  if (rows.length === 0)
    return `<p class="muted">${many ? 'The runs have the same configuration.' : 'The run stored no configuration.'}</p>`;
  const note = many ? `<p class="muted">${rows.length} of ${m.config.length} settings differ.</p>` : '';
  return (
    note +
    table(
      ['setting', ...m.runs.map((r) => `run ${r.id}`)],
      rows.map((c) => cell(c.path) + c.values.map((v) => cell(v ?? '—')).join('')),
    )
  );
}

function metrics(m: ReportModel): string {
  if (m.metrics.length === 0) return '<p class="muted">No metrics recorded.</p>';
  const many = m.runs.length > 1;
  const cols = [
    'metric',
    'dataset',
    ...m.runs.flatMap((r, i) => (many && i !== m.baseline ? [`run ${r.id}`, 'Δ'] : [`run ${r.id}`])),
  ];
  const rows = m.metrics.map(
    (row) =>
      cell(row.label) +
      cell(row.dataset ?? '') +
      row.values
        .map((v, i) => {
          const val = cell(formatMetric(row, v));
          if (!many || i === m.baseline) return val;
          const d = row.deltas[i] ?? null;
          return (
            val +
            cell(
              formatDelta(row, d, row.relative[i] ?? null),
              d === null || d === 0 ? '' : d > 0 ? 'pos' : 'neg',
            )
          );
        })
        .join(''),
  );
  return table(cols, rows);
}

function charts(m: ReportModel): string {
  const shown = m.metrics.filter((r) => r.headline && r.values.some((v) => v !== null));
  if (shown.length === 0) return '<p class="muted">No headline metrics to chart.</p>';
  const svgs = shown.map((row) =>
    barChart(
      `${row.label}${row.dataset ? ` [${row.dataset}]` : ''}`,
      m.runs.map((r, i) => ({ label: runLabel(r).slice(0, 28), value: row.values[i] ?? null })),
      (v) => formatMetric(row, v),
    ),
  );
  return `<div class="charts">${svgs.join('')}</div>`;
}

function layers(m: ReportModel): string {
  if (m.layers.length === 0) return '<p class="muted">No layer records.</p>';
  return m.layers
    .map((t) => {
      const nums = t.columns.filter((_, c) => t.rows.some((r) => typeof r.values[c] === 'number'));
      const plots = nums.slice(0, 4).map((col) => {
        const c = t.columns.indexOf(col);
        const s: Series = {
          name: col,
          points: t.rows.flatMap((r) =>
            typeof r.values[c] === 'number' ? [[r.layer, r.values[c] as number] as const] : [],
          ),
        };
        return lineChart(`${col} by layer`, [s], { x: 'layer', y: col });
      });
      return (
        `<h3>Run ${t.runId}, step ${t.step}</h3>` +
        table(
          ['layer', ...t.columns],
          t.rows.map((r) => cell(String(r.layer)) + r.values.map((v) => cell(formatCell(v))).join('')),
        ) +
        (plots.length ? `<div class="charts">${plots.join('')}</div>` : '')
      );
    })
    .join('');
}

function analysisCharts(a: AnalysisSection): string[] {
  const layerName = (l: number) => `L${l}`;
  switch (a.kind) {
    case 'sensitivity': {
      const recs = a.records.filter((r) => r.analysis === 'sensitivity');
      return [
        barChart(
          `Δ perplexity when one layer is compressed (${recs[0]?.method ?? ''} at ${recs[0]?.ratio ?? ''})`,
          recs.map((r) => ({ label: `layer ${r.layer}`, value: r.deltaPpl })),
          (v) => v.toPrecision(3),
        ),
      ];
    }
    case 'routing': {
      const recs = a.records.filter((r) => r.analysis === 'routing');
      if (recs.length === 0) return [];
      const width = Math.max(...recs.map((r) => r.frequency.length));
      return [
        heatmap(
          'Routing frequency (share of tokens per expert)',
          recs.map((r) => r.frequency),
          {
            rows: recs.map((r) => layerName(r.layer)),
            cols: Array.from({ length: width }, (_, e) => String(e)),
          },
        ),
        barChart(
          'Calibration coverage per layer',
          recs.map((r) => ({ label: `layer ${r.layer}`, value: r.coverage })),
          (v) => `${(v * 100).toFixed(0)}%`,
        ),
      ];
    }
    case 'similarity':
      return a.records
        .filter((r) => r.analysis === 'similarity')
        .slice(0, 8)
        .flatMap((r) => {
          const names = Array.from({ length: r.experts }, (_, e) => String(e));
          return [
            heatmap(`Layer ${r.layer}: weight cosine`, r.weightCosine, { rows: names, cols: names }),
            heatmap(`Layer ${r.layer}: output CKA`, r.outputCka, { rows: names, cols: names, range: [0, 1] }),
          ];
        });
    case 'energy':
      return a.records
        .filter((r) => r.analysis === 'energy')
        .slice(0, 8)
        .map((r) =>
          lineChart(
            `Layer ${r.layer}: energy retained vs rank${r.whitened ? ' (whitened)' : ''}`,
            (['gate', 'up', 'down'] as const).map((p) => ({
              name: p,
              points: r.ranks.map((k, i) => [k, r[p].mean[i]!] as const),
            })),
            { x: 'rank', y: 'energy (mean over experts)' },
          ),
        );
    case 'entropy': {
      const recs = a.records.filter((r) => r.analysis === 'entropy');
      const s = (name: string, pick: (r: (typeof recs)[number]) => number): Series => ({
        name,
        points: recs.map((r) => [r.layer, pick(r)] as const),
      });
      return [
        lineChart(
          'Router entropy per layer (nats)',
          [
            s('mean token entropy', (r) => r.meanTokenEntropy),
            s('average load', (r) => r.averageLoadEntropy),
            s('selection', (r) => r.selectionEntropy),
            s('uniform (max)', (r) => r.maxEntropy),
          ],
          { x: 'layer', y: 'nats' },
        ),
      ];
    }
  }
}

function analysisTable(a: AnalysisSection): string {
  const scalarKeys = scalarColumns(a.records);
  return table(
    ['layer', ...scalarKeys],
    a.records.map((r) => {
      const o = r as unknown as Record<string, unknown>;
      return (
        cell(String(r.layer)) +
        scalarKeys.map((k) => cell(formatCell(o[k] as number | string | boolean | null | undefined))).join('')
      );
    }),
  );
}

function analyses(m: ReportModel): string {
  if (m.analyses.length === 0) return '<p class="muted">None of these runs holds a sensitivity analysis.</p>';
  return m.analyses
    .map(
      (a) =>
        `<h3>${esc(a.title)} (run ${a.runId})</h3>${analysisTable(a)}<div class="charts">${analysisCharts(a).join('')}</div>`,
    )
    .join('');
}

export function renderHtml(m: ReportModel): string {
  const body: Record<(typeof SECTIONS)[number]['id'], string> = {
    summary: summary(m),
    config: config(m),
    metrics: metrics(m),
    charts: charts(m),
    layers: layers(m),
    analyses: analyses(m),
  };
  const sections = SECTIONS.map(
    (s) => `<section id="${s.id}"><h2>${esc(s.title)}</h2>${body[s.id]}</section>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title><style>${CSS}</style></head>
<body><h1>${esc(m.title)}</h1><p class="muted">MoE Workbench report, generated ${esc(m.generatedAt)}${m.runs.length > 1 ? `; deltas against run ${m.runs[m.baseline]!.id}` : ''}.</p>
${sections}
</body></html>
`;
}
