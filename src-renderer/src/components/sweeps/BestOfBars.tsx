// Best single / pair / triple per total ratio: grouped horizontal bars from 0, each a link to the
// winning run, its order and shares in the label.
import { bestOfTable, sharesText, sizeName } from '@contract/sweep-grid';
import type { SweepSurfaces } from '@contract/sweep-surfaces';
import { useRef } from 'react';
import { shortValue } from '../../sweeps/surface-layout';
import { SurfaceExport } from './SurfaceExport';

const SIZE_COLOR: Record<number, string> = { 1: '#6b7280', 2: '#2563eb', 3: '#9333ea' };
const FONT = 'system-ui, -apple-system, Segoe UI, sans-serif';

export function BestOfBars({ surfaces }: { surfaces: SweepSurfaces }) {
  const ref = useRef<SVGSVGElement>(null);
  const rows = surfaces.bestOf;
  const rowH = 22;
  const labelW = 250;
  const plotW = 320;
  const W = labelW + plotW + 80;
  const gap = 12;
  const H = 26 + rows.length * rowH + surfaces.ratios.length * gap + 8;
  const max = Math.max(0, ...rows.map((r) => r.value));
  const min = Math.min(0, ...rows.map((r) => r.value));
  const x = (v: number) => labelW + ((v - min) / (max - min || 1)) * plotW;
  let y = 26;
  const placed = surfaces.ratios.flatMap((ratio) => {
    const at = rows.filter((r) => r.ratio === ratio);
    const out = at.map((r, i) => ({ r, y: y + i * rowH, first: i === 0 }));
    y += at.length * rowH + gap;
    return out;
  });
  return (
    <figure className="surface" data-testid="sweep-best-of" data-surface="best-of">
      <svg
        ref={ref}
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Best single, pair and triple per ratio (${surfaces.metric})`}
        fontFamily={FONT}
        fontSize={11}
      >
        <rect width={W} height={H} fill="#ffffff" />
        <text x={4} y={14} fontWeight={600} fontSize={12} fill="#111">
          Best of single / pair / triple · {surfaces.metric}
        </text>
        {placed.map(({ r, y: ry, first }) => (
          <a
            key={`${r.ratio}-${r.size}`}
            href={r.runId !== null ? `#/runs/${r.runId}` : undefined}
            data-run={r.runId ?? undefined}
          >
            <title>{`ratio ${r.ratio}, best ${sizeName(r.size)}: ${r.order} (${sharesText(r.contributions)}) ${surfaces.metric} ${r.value}${r.runId !== null ? ` — run #${r.runId}` : ''}`}</title>
            {first ? (
              <text x={4} y={ry + 15} fontWeight={600} fill="#111">
                r {r.ratio}
              </text>
            ) : null}
            <text x={labelW - 6} y={ry + 15} textAnchor="end" fill="#222">
              {`${sizeName(r.size)} ${r.order} (${sharesText(r.contributions)})`}
            </text>
            <rect
              x={x(Math.min(0, r.value))}
              y={ry + 3}
              width={Math.max(1, Math.abs(x(r.value) - x(0)))}
              height={rowH - 7}
              fill={SIZE_COLOR[r.size] ?? '#444'}
            />
            <text x={Math.max(x(r.value), x(0)) + 4} y={ry + 15} fill="#222">
              {shortValue(r.value)}
            </text>
          </a>
        ))}
      </svg>
      <SurfaceExport name="best-of" svg={ref} table={bestOfTable(surfaces)} />
    </figure>
  );
}
