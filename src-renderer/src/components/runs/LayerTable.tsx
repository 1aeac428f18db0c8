import { formatCount, formatNumber } from '../../format/numbers';
import { formatDuration } from '../../format/run-format';
import type { LayerRow } from '../../runs/layer-stats';

export function LayerTable({ rows }: { rows: LayerRow[] }) {
  return (
    <div className="table-scroll tall">
      <table className="table" aria-label="Per-layer statistics">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Method</th>
            <th scope="col" className="num">
              Rank
            </th>
            <th scope="col" className="num">
              Tokens
            </th>
            <th scope="col" className="num">
              Experts w/o tokens
            </th>
            <th scope="col" className="num">
              Rel. error (mean)
            </th>
            <th scope="col" className="num">
              gate / up / down
            </th>
            <th scope="col" className="num">
              Sensitivity S_L
            </th>
            <th scope="col" className="num">
              Params dense → factored
            </th>
            <th scope="col" className="num">
              Time
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.layer} data-layer={r.layer}>
              <td className="num">{r.layer}</td>
              <td className="mono">{r.method ?? '—'}</td>
              <td className="num">{r.rank ?? '—'}</td>
              <td className="num">{formatCount(r.tokens)}</td>
              <td className={`num${r.zeroTokenExperts ? ' warn-text' : ''}`}>{r.zeroTokenExperts ?? '—'}</td>
              <td className="num">{formatNumber(r.relError)}</td>
              <td className="num">
                {[r.relErrorGate, r.relErrorUp, r.relErrorDown].map((v) => formatNumber(v)).join(' / ')}
              </td>
              <td className="num">{formatNumber(r.sensitivity)}</td>
              <td className="num">
                {formatCount(r.paramsDense)} → {formatCount(r.paramsFactored)}
              </td>
              <td className="num">{formatDuration(r.seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
