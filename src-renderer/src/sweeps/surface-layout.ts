// Geometry and colours of a surface grid (@contract/sweep-grid) as the sweep page draws it: one
// rect per existing cell at its row and column, the fill from the grid's domain (viridis for a
// metric, reversed when higher is better so "good" is always the same end; blue–white–red centred on
// 0 for order sensitivity), and the progress of a sweep.

import type { SweepProgress } from '@contract';
import { type Domain, type GridCell, gridDomain, type SurfaceGrid } from '@contract/sweep-grid';
import { DIVERGING, normalize, rampColor, textOn, VIRIDIS } from '../heatmap/color-scale';

export const CELL_W = 56;
export const CELL_H = 30;
export const LEFT = 78;
export const TOP = 34;

export interface PlacedCell extends GridCell {
  x: number;
  y: number;
  w: number;
  h: number;
  fill: string;
  ink: string;
}

export interface GridLayout {
  width: number;
  height: number;
  domain: Domain | null;
  cells: PlacedCell[];
  /** row label positions (y of the text baseline) and column label positions (x of the centre) */
  rowY: number[];
  colX: number[];
}

/** yellow = best: a lower-is-better metric runs the ramp backwards */
const BEST_HIGH = [...VIRIDIS];
const BEST_LOW = [...VIRIDIS].reverse();

export function fillOf(v: number, g: SurfaceGrid, d: Domain | null, better: 'lower' | 'higher'): string {
  if (!d) return '#cccccc';
  if (g.scale === 'diverging') {
    // negative = the forward order is better for a lower-is-better metric: blue means "forward wins"
    return rampColor(normalize(v, d), better === 'lower' ? DIVERGING : [...DIVERGING].reverse());
  }
  return rampColor(normalize(v, d), better === 'lower' ? BEST_LOW : BEST_HIGH);
}

export function layoutGrid(g: SurfaceGrid, better: 'lower' | 'higher' = 'lower'): GridLayout {
  const domain = gridDomain(g);
  const legendW = 90;
  const width = LEFT + g.cols.length * CELL_W + 12 + legendW;
  const height = TOP + g.rows.length * CELL_H + 40;
  const cells = g.cells.map((c): PlacedCell => {
    const fill = fillOf(c.value, g, domain, better);
    return {
      ...c,
      x: LEFT + c.col * CELL_W,
      y: TOP + c.row * CELL_H,
      w: CELL_W - 2,
      h: CELL_H - 2,
      fill,
      ink: textOn(fill),
    };
  });
  return {
    width,
    height,
    domain,
    cells,
    rowY: g.rows.map((_, i) => TOP + i * CELL_H + CELL_H / 2 + 4),
    colX: g.cols.map((_, j) => LEFT + j * CELL_W + CELL_W / 2 - 1),
  };
}

/** Settled points over all points (a refused or failed point is settled too). */
export function progressFraction(p: SweepProgress): number {
  if (p.total === 0) return 1;
  return (p.succeeded + p.failed + p.refused + p.cancelled) / p.total;
}

/** A compact value label: 4 significant digits (the CSV carries full precision). */
export function shortValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** Legend gradient stops from the domain's low end (offset 0) to its high end (offset 1). */
export function legendStops(
  g: SurfaceGrid,
  d: Domain,
  better: 'lower' | 'higher',
  n = 5,
): { offset: number; color: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const t = i / (n - 1);
    return { offset: t, color: fillOf(d.min + (d.max - d.min) * t, g, d, better) };
  });
}
