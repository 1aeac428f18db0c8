// One surface grid as a heatmap (simplex cells per ratio, or order sensitivity): every cell is a
// link to its run, with its exact value in the tooltip; a legend with the domain's ends. Colours
// and fonts are attributes, not CSS, so the exported SVG/PNG looks like the page.
import { gridTable, type SurfaceGrid } from '@contract/sweep-grid';
import { useRef } from 'react';
import { CELL_H, CELL_W, LEFT, layoutGrid, legendStops, shortValue, TOP } from '../../sweeps/surface-layout';
import { SurfaceExport } from './SurfaceExport';

const FONT = 'system-ui, -apple-system, Segoe UI, sans-serif';

export function SurfaceHeatmap({ grid, better }: { grid: SurfaceGrid; better: 'lower' | 'higher' }) {
  const ref = useRef<SVGSVGElement>(null);
  const l = layoutGrid(grid, better);
  const legendX = l.width - 84;
  const gradId = `grad-${grid.id}`;
  return (
    <figure className="surface" data-testid="sweep-surface" data-surface={grid.id} data-kind={grid.kind}>
      <svg
        ref={ref}
        width={l.width}
        height={l.height}
        viewBox={`0 0 ${l.width} ${l.height}`}
        role="img"
        aria-label={`${grid.title}: ${grid.cells.length} cells`}
        fontFamily={FONT}
        fontSize={11}
      >
        <rect width={l.width} height={l.height} fill="#ffffff" />
        <text x={4} y={14} fontWeight={600} fontSize={12} fill="#111">
          {grid.title}
        </text>
        {grid.rowAxis ? (
          <text x={4} y={TOP - 6} fill="#555">
            {grid.rowAxis} ↓
          </text>
        ) : null}
        {grid.rows.map((r, i) => (
          <text key={r} x={LEFT - 6} y={l.rowY[i]} textAnchor="end" fill="#222">
            {r}
          </text>
        ))}
        {grid.cols.map((c, j) => (
          <text key={c} x={l.colX[j]} y={TOP - 6} textAnchor="middle" fill="#222">
            {c}
          </text>
        ))}
        {l.cells.map((c) => {
          const body = (
            <>
              <title>{`${c.title}${c.runId !== null ? ` — run #${c.runId}` : ''}${c.otherRunId !== null ? ` vs #${c.otherRunId}` : ''}`}</title>
              <rect x={c.x} y={c.y} width={c.w} height={c.h} rx={3} fill={c.fill} />
              <text x={c.x + c.w / 2} y={c.y + c.h / 2 + 4} textAnchor="middle" fill={c.ink} fontSize={10}>
                {shortValue(c.value)}
              </text>
            </>
          );
          return c.runId !== null ? (
            <a
              key={`${c.row}-${c.col}`}
              href={`#/runs/${c.runId}`}
              data-run={c.runId}
              data-cell={`${c.row},${c.col}`}
            >
              {body}
            </a>
          ) : (
            <g key={`${c.row}-${c.col}`} data-cell={`${c.row},${c.col}`}>
              {body}
            </g>
          );
        })}
        <text x={LEFT + (grid.cols.length * CELL_W) / 2} y={l.height - 20} textAnchor="middle" fill="#555">
          {grid.colAxis} →
        </text>
        {l.domain ? (
          <g>
            <defs>
              <linearGradient id={gradId} x1="0" y1="1" x2="0" y2="0">
                {legendStops(grid, l.domain, better).map((s) => (
                  <stop key={s.offset} offset={s.offset} stopColor={s.color} />
                ))}
              </linearGradient>
            </defs>
            <rect
              x={legendX}
              y={TOP}
              width={12}
              height={Math.max(40, grid.rows.length * CELL_H - 2)}
              fill={`url(#${gradId})`}
            />
            <text x={legendX + 16} y={TOP + 9} fill="#222">
              {shortValue(l.domain.max)}
            </text>
            <text x={legendX + 16} y={TOP + Math.max(40, grid.rows.length * CELL_H - 2)} fill="#222">
              {shortValue(l.domain.min)}
            </text>
          </g>
        ) : null}
      </svg>
      {grid.note ? <figcaption className="small muted">{grid.note}</figcaption> : null}
      <SurfaceExport name={grid.id} svg={ref} table={gridTable(grid)} />
    </figure>
  );
}
