// One step's per-layer records as a table. The columns are those the step's records fill: low-rank
// steps show ranks, tokens and errors, pruning steps the metric, experts before → after and which
// were removed, dropping steps what was dropped and its similarity.
import type { ReactNode } from 'react';
import { formatCount, formatNumber, formatPercent } from '../../format/numbers';
import { formatDuration } from '../../format/run-format';
import type { LayerRow } from '../../runs/layer-stats';

interface Column {
  key: string;
  label: string;
  num?: boolean;
  /** shown when a row has a value for it */
  has(r: LayerRow): boolean;
  cell(r: LayerRow): ReactNode;
  className?(r: LayerRow): string | undefined;
}

const COLUMNS: Column[] = [
  { key: 'layer', label: 'Layer', num: true, has: () => true, cell: (r) => r.layer },
  { key: 'method', label: 'Method', has: () => true, cell: (r) => r.method ?? '—', className: () => 'mono' },
  {
    key: 'dropped',
    label: 'Dropped',
    has: (r) => r.dropped !== null,
    cell: (r) => (r.dropped === 'block' ? 'decoder block' : r.dropped === 'layer' ? 'MoE sub-layer' : '—'),
    className: (r) => (r.dropped ? 'warn-text' : undefined),
  },
  {
    key: 'similarity',
    label: 'Similarity',
    num: true,
    has: (r) => r.similarity !== null,
    cell: (r) => formatNumber(r.similarity),
  },
  {
    key: 'metric',
    label: 'Score metric',
    has: (r) => r.metric !== null,
    cell: (r) => r.metric ?? '—',
    className: () => 'mono',
  },
  {
    key: 'experts',
    label: 'Experts before → after',
    num: true,
    has: (r) => r.expertsAfter !== null,
    cell: (r) => `${r.expertsBefore ?? '—'} → ${r.expertsAfter ?? '—'}`,
  },
  {
    key: 'removed',
    label: 'Removed experts',
    has: (r) => r.removed !== null,
    cell: (r) => (r.removed?.length ? r.removed.join(', ') : 'none'),
    className: () => 'mono',
  },
  {
    key: 'groups',
    label: 'Merge groups (leader ← members)',
    has: (r) => r.groups !== null,
    cell: (r) =>
      r.groups!.map((g) => (g.length > 1 ? `${g[0]} ← ${g.slice(1).join(', ')}` : String(g[0]))).join('; '),
    className: () => 'mono',
  },
  {
    key: 'sparsity',
    label: 'Sparsity',
    num: true,
    has: (r) => r.sparsity !== null,
    cell: (r) =>
      `${formatPercent(r.sparsity)}${r.pattern && r.pattern !== 'unstructured' ? ` (${r.pattern})` : ''}`,
  },
  {
    key: 'expertSparsity',
    label: 'Sparsity per expert',
    has: (r) => r.expertSparsity !== null,
    cell: (r) => r.expertSparsity!.map((x) => formatPercent(x, 0)).join(' '),
    className: () => 'mono',
  },
  {
    key: 'bits',
    label: 'Bits (group)',
    num: true,
    has: (r) => r.bits !== null,
    cell: (r) => `int${r.bits} (${r.groupSize === -1 ? 'per channel' : `g${r.groupSize ?? '—'}`})`,
  },
  {
    key: 'expertBits',
    label: 'Bits per expert',
    has: (r) => r.expertBits !== null,
    cell: (r) => r.expertBits!.map((b) => b ?? '—').join(' '),
    className: () => 'mono',
  },
  { key: 'rank', label: 'Rank', num: true, has: (r) => r.rank !== null, cell: (r) => r.rank ?? '—' },
  {
    key: 'tokens',
    label: 'Tokens',
    num: true,
    has: (r) => r.tokens !== null,
    cell: (r) => formatCount(r.tokens),
  },
  {
    key: 'zero',
    label: 'Experts w/o tokens',
    num: true,
    has: (r) => r.zeroTokenExperts !== null,
    cell: (r) => r.zeroTokenExperts ?? '—',
    className: (r) => (r.zeroTokenExperts ? 'warn-text' : undefined),
  },
  {
    key: 'relError',
    label: 'Rel. error (mean)',
    num: true,
    has: (r) => r.relError !== null,
    cell: (r) => formatNumber(r.relError),
  },
  {
    key: 'proj',
    label: 'gate / up / down',
    num: true,
    has: (r) => r.relErrorGate !== null || r.relErrorUp !== null || r.relErrorDown !== null,
    cell: (r) => [r.relErrorGate, r.relErrorUp, r.relErrorDown].map((v) => formatNumber(v)).join(' / '),
  },
  {
    key: 'sensitivity',
    label: 'Sensitivity S_L',
    num: true,
    has: (r) => r.sensitivity !== null,
    cell: (r) => formatNumber(r.sensitivity),
  },
  {
    key: 'params',
    label: 'Params dense → factored',
    num: true,
    has: (r) => r.paramsDense !== null || r.paramsFactored !== null,
    cell: (r) => `${formatCount(r.paramsDense)} → ${formatCount(r.paramsFactored)}`,
  },
  { key: 'time', label: 'Time', num: true, has: () => true, cell: (r) => formatDuration(r.seconds) },
];

/** The columns the rows fill (layer, method and time always). */
export function layerColumns(rows: readonly LayerRow[]): string[] {
  return COLUMNS.filter((c) => rows.some((r) => c.has(r))).map((c) => c.key);
}

export function LayerTable({ rows, label = 'Per-layer statistics' }: { rows: LayerRow[]; label?: string }) {
  const shown = COLUMNS.filter((c) => rows.some((r) => c.has(r)));
  return (
    <div className="table-scroll tall">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {shown.map((c) => (
              <th key={c.key} scope="col" className={c.num ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.layer} data-layer={r.layer} className={r.dropped ? 'dropped-row' : undefined}>
              {shown.map((c) => (
                <td
                  key={c.key}
                  className={
                    [c.num ? 'num' : '', c.className?.(r) ?? ''].filter(Boolean).join(' ') || undefined
                  }
                >
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
