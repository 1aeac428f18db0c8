// How a comparison cell reads on screen: a metric in its unit (548.4 MiB, 2.26M, 20.0%, 97.5
// tok/s; never a raw 5.75e+8), a delta as a signed percentage. Exports keep the raw numbers.
import { formatMetricValue, metricSpec } from '@contract/metrics';
import { formatNumber } from '../format/numbers';
import type { Cell, ExportTable } from './table-export';

export const isDeltaColumn = (col: string) => col.endsWith('_delta') || col.endsWith('Δ error');

export function formatCompareCell(col: string, c: Cell): string {
  if (c === null || c === undefined || c === '') return '—';
  if (typeof c !== 'number') return c;
  if (!Number.isFinite(c)) return '—';
  if (isDeltaColumn(col)) return `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`;
  return metricSpec(col) ? formatMetricValue(col, c) : formatNumber(c);
}

/** The table as people read it (Markdown reports): every cell formatted in its unit. */
export function formattedTable(t: ExportTable): ExportTable {
  return { columns: t.columns, rows: t.rows.map((r) => t.columns.map((c, i) => formatCompareCell(c, r[i]))) };
}
