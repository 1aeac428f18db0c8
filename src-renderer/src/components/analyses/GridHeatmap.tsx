// A labelled grid of values as a heatmap (layers × experts, experts × experts), drawn like the run
// page's expert heatmap: viridis ramp, hatched cells for missing values, a tooltip per cell mirrored
// in the legend, and a colour legend with ticks.
import { useId, useState } from 'react';
import type { Grid } from '../../analyses/analysis-data';
import { cellColor, type Domain, domainOf, legendTicks, rampColor } from '../../heatmap/color-scale';
import { HatchPattern } from '../../heatmap/HatchPattern';

const LEFT = 44;
const TOP = 24;

export function GridHeatmap({
  grid,
  label,
  format,
  domain,
  cell = 24,
  testId,
}: {
  grid: Grid;
  /** what a value is, for the accessible name and the tooltips */
  label: string;
  format: (v: number) => string;
  /** fixed colour domain (e.g. [0, 1] for similarities); default: the values' range */
  domain?: Domain;
  cell?: number;
  testId?: string;
}) {
  const patternId = useId().replace(/:/g, '');
  const [hover, setHover] = useState<string | null>(null);
  const d = domain ?? domainOf(grid.values.flat());
  const cols = grid.colLabels.length;
  const rows = grid.rowLabels.length;
  if (rows === 0 || cols === 0) return <p className="muted">No values recorded.</p>;
  const width = LEFT + cols * cell + 8;
  const height = TOP + rows * cell + 8;
  const showCell = (e: { target: EventTarget }) => {
    const c = (e.target as Element).closest('[data-cell]');
    setHover(c?.querySelector('title')?.textContent ?? null);
  };
  return (
    <figure className="heatmap" data-testid={testId}>
      <div className="heatmap-body">
        <svg
          width={width}
          height={height}
          role="img"
          aria-label={`${label}: ${rows} × ${cols}`}
          onMouseOver={showCell}
          onFocus={showCell}
          onMouseLeave={() => setHover(null)}
        >
          <defs>
            <HatchPattern id={patternId} />
          </defs>
          {grid.colLabels.map((c, j) => (
            <text
              key={c}
              x={LEFT + j * cell + cell / 2}
              y={TOP - 8}
              textAnchor="middle"
              className="heatmap-axis"
            >
              {c}
            </text>
          ))}
          {grid.rowLabels.map((r, i) => (
            <g key={r}>
              <text x={LEFT - 6} y={TOP + i * cell + cell / 2 + 4} textAnchor="end" className="heatmap-axis">
                {r}
              </text>
              {grid.colLabels.map((c, j) => {
                const v = grid.values[i]?.[j] ?? null;
                const fill = cellColor(v, d);
                return (
                  <g key={c} data-cell={`${i},${j}`}>
                    <title>{`${r} · ${c}: ${v === null ? 'no data' : format(v)}`}</title>
                    <rect
                      x={LEFT + j * cell + 1}
                      y={TOP + i * cell + 1}
                      width={cell - 2}
                      height={cell - 2}
                      rx="3"
                      fill={fill ?? `url(#${patternId})`}
                    />
                  </g>
                );
              })}
            </g>
          ))}
        </svg>
        <section className="heatmap-legend" aria-label={`${label} colour legend`}>
          {d ? (
            <>
              <div
                className="legend-bar"
                style={{
                  background: `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => rampColor(t)).join(', ')})`,
                }}
              />
              <div className="legend-ticks">
                {legendTicks(d, d.max === d.min ? 1 : 3).map((t) => (
                  <span key={t}>{format(t)}</span>
                ))}
              </div>
            </>
          ) : null}
          <p className="heatmap-hover small muted" aria-live="polite">
            {hover ?? 'Hover a cell for its value.'}
          </p>
        </section>
      </div>
    </figure>
  );
}
