import type { Cell, ExportTable } from '../../compare/table-export';
import { formatNumber } from '../../format/numbers';

const isDelta = (col: string) => col.endsWith('_delta') || col.endsWith('Δ error');

/** Which direction is an improvement, per compared quantity; ratios and unknowns stay neutral. */
const LOWER_IS_BETTER = /^(ppl|paramsAfter|peakRssBytes)_delta$|Δ error$/;
const HIGHER_IS_BETTER = /^tokensPerSecond_delta$/;

function deltaClass(col: string, v: number): string {
  if (v === 0) return '';
  const better = LOWER_IS_BETTER.test(col) ? v < 0 : HIGHER_IS_BETTER.test(col) ? v > 0 : null;
  return better === null ? '' : better ? 'delta-better' : 'delta-worse';
}

function show(c: Cell, col: string): string {
  if (c === null || c === undefined || c === '') return '—';
  if (typeof c !== 'number') return c;
  if (isDelta(col)) return `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`;
  return formatNumber(c);
}

/** A comparison table as the page shows it; deltas read as signed percentages, coloured by whether they are better. */
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
                  className={
                    [
                      typeof r[j] === 'number' ? 'num' : '',
                      isDelta(c) && typeof r[j] === 'number' ? deltaClass(c, r[j] as number) : '',
                    ]
                      .join(' ')
                      .trim() || undefined
                  }
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
