import { formatCompareCell, isDeltaColumn } from '../../compare/cell-format';
import type { Cell, ExportTable } from '../../compare/table-export';

const isDelta = isDeltaColumn;

/** Which direction is an improvement, per compared quantity; ratios and unknowns stay neutral. */
const LOWER_IS_BETTER = /^(ppl|paramsAfter|peakRssBytes)_delta$|Δ error$/;
const HIGHER_IS_BETTER = /^tokensPerSecond_delta$/;

function deltaClass(col: string, v: number): string {
  if (v === 0) return '';
  const better = LOWER_IS_BETTER.test(col) ? v < 0 : HIGHER_IS_BETTER.test(col) ? v > 0 : null;
  return better === null ? '' : better ? 'delta-better' : 'delta-worse';
}

const show = (c: Cell, col: string): string => formatCompareCell(col, c);

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
