// Layers × experts heatmap of one per-expert statistic of one step. Experts that saw no calibration
// tokens carry a cross and a dashed outline whatever the metric, so coverage gaps stand out;
// missing values are hatched. Experts the step removed are struck through (their score still
// colours the cell), experts an earlier step removed are empty, and a layer whose MoE sub-layer or
// block was dropped is one hatched bar; the column on the right counts the experts each layer
// keeps. Every cell has a tooltip; the layer table below is the tabular equivalent.
import { useId, useState } from 'react';
import { cellColor, domainOf, legendTicks, rampColor } from '../../heatmap/color-scale';
import { HatchPattern } from '../../heatmap/HatchPattern';
import { EXPERT_METRICS, type ExpertGrid, type ExpertMetricId } from '../../runs/layer-stats';

const CELL = 26;
const LEFT = 64;
// the "experts →" caption (baseline y = 12) sits on its own line above the column numbers (TOP − 8)
const TOP = 40;
const KEPT_W = 56;

export function ExpertHeatmap({ grid }: { grid: ExpertGrid }) {
  const selectId = useId();
  const patternId = useId().replace(/:/g, '');
  const [metric, setMetric] = useState<ExpertMetricId>(grid.available[0] ?? 'tokenShare');
  const [hover, setHover] = useState<string | null>(null);
  // one delegated handler for all cells: the hovered cell's tooltip text, mirrored in the legend
  const showCell = (e: { target: EventTarget }) => {
    const cell = (e.target as Element).closest('[data-expert]');
    setHover(cell?.querySelector('title')?.textContent ?? null);
  };
  const spec = EXPERT_METRICS.find((m) => m.id === metric)!;
  const values = grid.values[metric];
  const domain = domainOf(values.flat());
  const expertIds = Array.from({ length: grid.experts }, (_, e) => e);
  const zeroCount = grid.zeroTokens.flat().filter(Boolean).length;
  const removedCount = grid.removed.flat().filter(Boolean).length;
  const goneCount = grid.gone.flat().filter(Boolean).length;
  const mergedCount = grid.mergedInto.flat().filter((l) => l !== null).length;
  const droppedCount = grid.dropped.filter(Boolean).length;
  const showKept = grid.kept.some((k) => k !== null);
  // a step that only dropped layers has no expert columns: its bars still need a width
  const cols = Math.max(grid.experts, droppedCount ? 8 : 0);
  const width = LEFT + cols * CELL + 8 + (showKept ? KEPT_W : 0);
  const height = TOP + grid.layers.length * CELL + 8;
  if (grid.layers.length === 0 || cols === 0)
    return <p className="muted">No per-expert statistics recorded.</p>;
  return (
    <figure className="heatmap" data-testid="expert-heatmap">
      <div className="field-row narrow">
        <label htmlFor={selectId}>Statistic</label>
        <select
          id={selectId}
          className="input"
          value={metric}
          onChange={(e) => setMetric(e.target.value as ExpertMetricId)}
        >
          {EXPERT_METRICS.filter((m) => grid.available.includes(m.id)).map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
      </div>
      <div className="heatmap-body">
        <svg
          width={width}
          height={height}
          role="img"
          aria-label={`${spec.label} per layer and expert: ${grid.layers.length} layers × ${grid.experts} experts${zeroCount ? `, ${zeroCount} experts with no calibration tokens` : ''}${removedCount ? `, ${removedCount} experts removed` : ''}${droppedCount ? `, ${droppedCount} layers dropped` : ''}`}
          onMouseLeave={() => setHover(null)}
          onMouseOver={showCell}
          onFocus={showCell}
        >
          <defs>
            <HatchPattern id={patternId} />
          </defs>
          {expertIds.map((e) => (
            <text
              key={e}
              x={LEFT + e * CELL + CELL / 2}
              y={TOP - 8}
              textAnchor="middle"
              className="heatmap-axis"
            >
              {e}
            </text>
          ))}
          {showKept ? (
            <text x={LEFT + cols * CELL + 10} y={TOP - 8} className="heatmap-axis">
              kept
            </text>
          ) : null}
          {grid.layers.map((layer, row) => {
            const drop = grid.dropped[row];
            const y = TOP + row * CELL;
            const kept = grid.kept[row];
            const before = grid.before[row];
            return (
              <g key={layer} data-row-layer={layer} data-dropped={drop ? drop.kind : undefined}>
                <text x={LEFT - 8} y={y + CELL / 2 + 4} textAnchor="end" className="heatmap-axis">
                  L{layer}
                </text>
                {showKept ? (
                  <text
                    x={LEFT + cols * CELL + 10}
                    y={y + CELL / 2 + 4}
                    className="heatmap-axis heatmap-kept"
                    data-testid={`kept-${layer}`}
                  >
                    {drop
                      ? '—'
                      : kept === null
                        ? ''
                        : before !== null && before !== kept
                          ? `${kept}/${before}`
                          : String(kept)}
                  </text>
                ) : null}
                {drop ? (
                  <g data-layer={layer} data-expert="all" data-dropped-row={drop.kind}>
                    <title>
                      {`layer ${layer}: ${drop.kind === 'block' ? 'decoder block' : 'MoE sub-layer'} dropped${drop.byThisStep ? ' by this step' : ' by an earlier step'}${drop.similarity !== null ? ` (similarity ${drop.similarity.toFixed(4)})` : ''}`}
                    </title>
                    <rect
                      x={LEFT + 1}
                      y={y + 1}
                      width={cols * CELL - 2}
                      height={CELL - 2}
                      rx="3"
                      fill={`url(#${patternId})`}
                      className={`heatmap-dropped${drop.byThisStep ? ' this-step' : ''}`}
                    />
                    <text x={LEFT + 8} y={y + CELL / 2 + 4} className="heatmap-dropped-label">
                      {drop.kind === 'block' ? 'block dropped' : 'MoE layer dropped'}
                      {drop.byThisStep ? '' : ' earlier'}
                      {drop.similarity !== null ? ` · sim ${drop.similarity.toFixed(3)}` : ''}
                    </text>
                  </g>
                ) : null}
                {drop
                  ? null
                  : expertIds.map((e) => {
                      const v = values[row]![e] ?? null;
                      const fill = cellColor(v, domain);
                      const zero = grid.zeroTokens[row]![e]!;
                      const removed = grid.removed[row]![e]!;
                      const gone = grid.gone[row]![e]!;
                      const into = grid.mergedInto[row]![e] ?? null;
                      const isLeader = grid.leader[row]![e]!;
                      const x = LEFT + e * CELL;
                      const label = `layer ${layer}, expert ${e}: ${gone ? 'removed by an earlier step' : v === null ? 'no data' : spec.format(v)}${removed ? ' — removed by this step' : ''}${into !== null ? ` — merged into expert ${into}` : ''}${isLeader ? ' — leads a merged group' : ''}${zero ? ' — no calibration tokens' : ''}`;
                      if (gone)
                        return (
                          <g key={`expert-${e}`} data-layer={layer} data-expert={e} data-gone="true">
                            <title>{label}</title>
                            <rect
                              x={x + 2}
                              y={y + 2}
                              width={CELL - 4}
                              height={CELL - 4}
                              rx="3"
                              fill="none"
                              className="heatmap-gone"
                            />
                          </g>
                        );
                      return (
                        <g
                          key={`expert-${e}`}
                          data-layer={layer}
                          data-expert={e}
                          data-zero-tokens={zero || undefined}
                          data-removed={removed || undefined}
                          data-merged-into={into ?? undefined}
                          data-leader={isLeader || undefined}
                        >
                          <title>{label}</title>
                          <rect
                            x={x + 1}
                            y={y + 1}
                            width={CELL - 2}
                            height={CELL - 2}
                            rx="3"
                            fill={fill ?? `url(#${patternId})`}
                          />
                          {removed ? (
                            <>
                              <rect
                                x={x + 1.5}
                                y={y + 1.5}
                                width={CELL - 3}
                                height={CELL - 3}
                                rx="3"
                                fill="none"
                                className="heatmap-removed-outline"
                              />
                              <path
                                d={`M${x + 4} ${y + CELL - 4} L${x + CELL - 4} ${y + 4}`}
                                className="heatmap-removed-strike"
                              />
                            </>
                          ) : null}
                          {into !== null ? (
                            <text
                              x={x + CELL / 2}
                              y={y + CELL / 2 + 4}
                              textAnchor="middle"
                              className="heatmap-merged"
                            >
                              →{into}
                            </text>
                          ) : null}
                          {isLeader ? (
                            <circle cx={x + CELL - 6} cy={y + 6} r="3" className="heatmap-leader" />
                          ) : null}
                          {zero ? (
                            <>
                              <rect
                                x={x + 2}
                                y={y + 2}
                                width={CELL - 4}
                                height={CELL - 4}
                                rx="3"
                                fill="none"
                                className="heatmap-zero-outline"
                              />
                              <path
                                d={`M${x + 7} ${y + 7} L${x + CELL - 7} ${y + CELL - 7} M${x + CELL - 7} ${y + 7} L${x + 7} ${y + CELL - 7}`}
                                className="heatmap-zero-cross"
                              />
                            </>
                          ) : null}
                        </g>
                      );
                    })}
              </g>
            );
          })}
          <text x={LEFT} y={12} className="heatmap-axis">
            experts →
          </text>
        </svg>
        <section className="heatmap-legend" aria-label="Colour legend">
          {domain ? (
            <>
              <div
                className="legend-bar"
                style={{
                  background: `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => rampColor(t)).join(', ')})`,
                }}
              />
              <div className="legend-ticks">
                {legendTicks(domain, domain.max === domain.min ? 1 : 3).map((t) => (
                  <span key={t}>{spec.format(t)}</span>
                ))}
              </div>
            </>
          ) : null}
          <ul className="legend-keys">
            {removedCount ? (
              <li>
                <svg width="16" height="16" aria-hidden="true">
                  <rect
                    x="1"
                    y="1"
                    width="14"
                    height="14"
                    rx="3"
                    fill="none"
                    className="heatmap-removed-outline"
                  />
                  <path d="M3 13 L13 3" className="heatmap-removed-strike" />
                </svg>{' '}
                removed by this step ({removedCount})
              </li>
            ) : null}
            {mergedCount ? (
              <li>
                <svg width="16" height="16" aria-hidden="true">
                  <circle cx="8" cy="8" r="3" className="heatmap-leader" />
                </svg>{' '}
                leads a merged group; →n: merged into expert n ({mergedCount} merged)
              </li>
            ) : null}
            {goneCount ? (
              <li>
                <svg width="16" height="16" aria-hidden="true">
                  <rect x="2" y="2" width="12" height="12" rx="3" fill="none" className="heatmap-gone" />
                </svg>{' '}
                removed by an earlier step ({goneCount})
              </li>
            ) : null}
            {droppedCount ? (
              <li>
                <svg width="16" height="16" aria-hidden="true">
                  <rect
                    x="1"
                    y="1"
                    width="14"
                    height="14"
                    rx="3"
                    fill={`url(#${patternId})`}
                    className="heatmap-dropped this-step"
                  />
                </svg>{' '}
                layer or block dropped ({droppedCount})
              </li>
            ) : null}
            <li>
              <svg width="16" height="16" aria-hidden="true">
                <rect
                  x="1"
                  y="1"
                  width="14"
                  height="14"
                  rx="3"
                  fill="none"
                  className="heatmap-zero-outline"
                />
                <path d="M4 4 L12 12 M12 4 L4 12" className="heatmap-zero-cross" />
              </svg>{' '}
              no calibration tokens{zeroCount ? ` (${zeroCount})` : ''}
            </li>
            <li>
              <svg width="16" height="16" aria-hidden="true">
                <rect x="1" y="1" width="14" height="14" rx="3" fill={`url(#${patternId})`} />
              </svg>{' '}
              no data
            </li>
          </ul>
          <p className="heatmap-hover small muted" aria-live="polite" data-testid="heatmap-hover">
            {hover ?? 'Hover a cell for its value.'}
          </p>
        </section>
      </div>
    </figure>
  );
}
