import type { Cell, ExportTable } from '../../compare/table-export';
import { formatNumber } from '../../format/numbers';

const isDelta = (col: string) => col.endsWith('_delta') || col.endsWith('Δ error');

function show(c: Cell, col: string): string {
  if (c === null || c === undefined || c === '') return '—';
  if (typeof c !== 'number') return c;
  if (isDelta(col)) return `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`;
  return formatNumber(c);
}

/** A comparison table as the page shows it; deltas read as signed percentages. */
export function ExportTableView({ table, label }: { table: ExportTable; label: string }) {
  return (
    <div className="table-scroll">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {table.columns.map((c) => (
              <th key={c} scope="col">
                {c.replace(/_delta$/, ' Δ')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
            <tr key={i}>
              {table.columns.map((c, j) => (
                <td
                  key={c}
                  className={[typeof r[j] === 'number' ? 'num' : '', isDelta(c) && typeof r[j] === 'number' ? (Number(r[j]) > 0 ? 'delta-up' : Number(r[j]) < 0 ? 'delta-down' : '') : ''].join(' ').trim() || undefined}
                >
                  {show(r[j], c)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
