// Reports of stored runs (one run, or a comparison against a baseline) as HTML, Markdown or CSV:
// `moe-bench report RUN… --format …` and the runs.report request of the UI both come here.
import type { RunDetail } from '../../contract/index';
import { renderCsv } from './csv';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';
import { buildReport } from './report-model';

export const REPORT_FORMATS = ['html', 'md', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const MIME: Record<ReportFormat, string> = {
  html: 'text/html;charset=utf-8',
  md: 'text/markdown;charset=utf-8',
  csv: 'text/csv;charset=utf-8',
};

export interface RenderedReport {
  filename: string;
  mime: string;
  content: string;
}

export function renderReport(
  runs: readonly RunDetail[],
  format: ReportFormat,
  opts: { baselineId?: number; title?: string; now?: Date } = {},
): RenderedReport {
  const model = buildReport(runs, opts);
  const content =
    format === 'html' ? renderHtml(model) : format === 'md' ? renderMarkdown(model) : renderCsv(model);
  return {
    filename: `report-runs-${runs.map((r) => r.id).join('-')}.${format}`,
    mime: MIME[format],
    content,
  };
}
