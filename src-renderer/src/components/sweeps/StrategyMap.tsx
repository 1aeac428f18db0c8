// The best strategy per compression level (the reference's Figure 8): for each total ratio the
// winning pipeline as a bar split into its steps in execution order, each segment as wide as the
// step's share of the ratio, with the metric at the end. Each row links to the winning run.
import { strategyRows, strategyTable } from '@contract/sweep-grid';
import type { SweepSurfaces } from '@contract/sweep-surfaces';
import { useRef } from 'react';
import { FAMILY_NAMES, familyColor } from '../../sweeps/family-colors';
import { shortValue } from '../../sweeps/surface-layout';
import { SurfaceExport } from './SurfaceExport';

const FONT = 'system-ui, -apple-system, Segoe UI, sans-serif';

export function StrategyMap({ surfaces }: { surfaces: SweepSurfaces }) {
  const ref = useRef<SVGSVGElement>(null);
  const rows = strategyRows(surfaces);
  const families = [...new Set(rows.flatMap((r) => r.segments.map((s) => s.family)))];
  const rowH = 34;
  const left = 70;
  const barW = 360;
  const W = left + barW + 290;
  const top = 30;
  const H = top + rows.length * rowH + 34;
  return (
    <figure className="surface" data-testid="sweep-strategy-map" data-surface="best-strategy">
      <svg
        ref={ref}
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Best strategy per compression level (${surfaces.metric})`}
        fontFamily={FONT}
        fontSize={11}
      >
        <rect width={W} height={H} fill="#ffffff" />
        <text x={4} y={16} fontWeight={600} fontSize={12} fill="#111">
          Best strategy per compression level · {surfaces.metric}
        </text>
        {rows.map((r, i) => {
          const y = top + i * rowH;
          let x = left;
          return (
            <a
              key={r.ratio}
              href={r.runId !== null ? `#/runs/${r.runId}` : undefined}
              data-run={r.runId ?? undefined}
              data-ratio={r.ratio}
            >
              <title>{`ratio ${r.ratio}: ${r.order} (${r.segments.map((s) => `${s.family} ${s.share}`).join(', ')}) ${surfaces.metric} ${r.value}${r.runId !== null ? ` — run #${r.runId}` : ''}`}</title>
              <text x={left - 8} y={y + rowH / 2 + 3} textAnchor="end" fill="#111">
                r {r.ratio}
              </text>
              {r.segments.map((s) => {
                const w = barW * s.share;
                const seg = (
                  <g key={s.family}>
                    <rect
                      x={x}
                      y={y + 4}
                      width={Math.max(1, w - 1)}
                      height={rowH - 10}
                      fill={familyColor(s.family)}
                    />
                    {w > 34 ? (
                      <text
                        x={x + w / 2}
                        y={y + rowH / 2 + 3}
                        textAnchor="middle"
                        fill="#ffffff"
                        fontWeight={600}
                      >
                        {`${s.family} ${Number(s.share.toFixed(4))}`}
                      </text>
                    ) : null}
                  </g>
                );
                x += w;
                return seg;
              })}
              <text x={left + barW + 8} y={y + rowH / 2 + 3} fill="#111">
                {`${r.order} · ${surfaces.metric} ${shortValue(r.value)}`}
              </text>
            </a>
          );
        })}
        {families.map((f, k) => (
          <g key={f}>
            <rect x={left + k * 110} y={H - 22} width={10} height={10} fill={familyColor(f)} />
            <text x={left + k * 110 + 14} y={H - 13} fill="#222">
              {`${f} ${FAMILY_NAMES[f] ?? ''}`}
            </text>
          </g>
        ))}
        <text x={left + barW + 8} y={H - 13} fill="#555">
          bar: steps in execution order, width = share
        </text>
      </svg>
      <SurfaceExport name="best-strategy" svg={ref} table={strategyTable(surfaces)} />
    </figure>
  );
}
