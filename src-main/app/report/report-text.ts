// Text shared by the report formats: the section list (ids the HTML uses and the e2e test looks
// for, headings of the Markdown) and how values and deltas read.
import { formatUnitValue } from '../../contract/metrics';
import type { MetricRow } from './report-model';

export const SECTIONS = [
  { id: 'summary', title: 'Runs' },
  { id: 'config', title: 'Configuration' },
  { id: 'metrics', title: 'Metrics' },
  { id: 'charts', title: 'Charts' },
  { id: 'layers', title: 'Per-layer records' },
  { id: 'analyses', title: 'Sensitivity analyses' },
] as const;

export function formatMetric(row: Pick<MetricRow, 'unit'>, v: number | null): string {
  return v === null ? '—' : formatUnitValue(v, row.unit);
}

/** `+1.23 (+4.5%)`; the absolute part in the metric's unit. */
export function formatDelta(row: Pick<MetricRow, 'unit'>, d: number | null, rel: number | null): string {
  if (d === null) return '—';
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const abs = formatUnitValue(Math.abs(d), row.unit);
  return rel === null
    ? `${sign}${abs}`
    : `${sign}${abs} (${rel >= 0 ? '+' : '−'}${(Math.abs(rel) * 100).toFixed(1)}%)`;
}

export function formatCell(v: number | string | boolean | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
  return String(v);
}

export type ScalarValue = number | string | boolean;

/** The scalar fields of an analysis record (its kind and layer are shown apart), in record order. */
export function scalarFields(rec: object): [string, ScalarValue][] {
  return Object.entries(rec).filter(
    (e): e is [string, ScalarValue] =>
      e[0] !== 'analysis' && e[0] !== 'layer' && ['number', 'string', 'boolean'].includes(typeof e[1]),
  );
}

/** The scalar field names of a set of records, each once (the columns of an analysis table). */
export function scalarColumns(records: readonly object[]): string[] {
  return [...new Set(records.flatMap((r) => scalarFields(r).map(([k]) => k)))];
}
