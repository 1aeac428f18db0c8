// Stored analysis records (contract/analyses.ts) → what the analysis views draw: grids for the
// heatmaps, rows for the charts. Pure, so the views' data are tested without a DOM.
import {
  ENERGY_THRESHOLDS,
  type EnergyRecord,
  type EntropyRecord,
  type RoutingRecord,
  type SensitivityRecord,
} from '@contract/analyses';

export interface Grid {
  rowLabels: string[];
  colLabels: string[];
  /** [row][col]; null = no value */
  values: (number | null)[][];
}

/** Layers × experts of the routing frequency (top-k selections / tokens). */
export function routingGrid(records: readonly RoutingRecord[]): Grid {
  const experts = Math.max(0, ...records.map((r) => r.counts.length));
  return {
    rowLabels: records.map((r) => `L${r.layer}`),
    colLabels: Array.from({ length: experts }, (_, e) => String(e)),
    values: records.map((r) => Array.from({ length: experts }, (_, e) => r.frequency[e] ?? null)),
  };
}

/** An expert × expert matrix as a grid. */
export function matrixGrid(m: readonly (readonly number[])[]): Grid {
  const labels = m.map((_, i) => String(i));
  return { rowLabels: labels, colLabels: labels, values: m.map((row) => [...row]) };
}

/** Mean of the off-diagonal entries (how alike a layer's experts are on average). */
export function offDiagonalMean(m: readonly (readonly number[])[]): number | null {
  let s = 0;
  let n = 0;
  for (const [i, row] of m.entries())
    for (const [j, v] of row.entries())
      if (i !== j) {
        s += v;
        n++;
      }
  return n ? s / n : null;
}

export interface SensitivityRow {
  layer: number;
  knobs: string;
  achievedRatio: number;
  ppl: number;
  deltaPpl: number;
  relativeDelta: number;
  noop: boolean;
  /** 1 = the most sensitive layer of the run */
  rank: number;
}

/** One row per layer, ranked by perplexity increase (1 = the most sensitive). */
export function sensitivityRows(records: readonly SensitivityRecord[]): SensitivityRow[] {
  const order = [...records].sort((a, b) => b.deltaPpl - a.deltaPpl || a.layer - b.layer).map((r) => r.layer);
  return records.map((r) => ({
    layer: r.layer,
    knobs: Object.entries(r.knobs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    achievedRatio: r.achievedRatio,
    ppl: r.ppl,
    deltaPpl: r.deltaPpl,
    relativeDelta: r.relativeDelta,
    noop: r.noop,
    rank: order.indexOf(r.layer) + 1,
  }));
}

export interface EnergyPoint {
  rank: number;
  mean: number;
  /** [min, max] over the layer's experts */
  band: [number, number];
}

export function energyPoints(r: EnergyRecord, proj: 'gate' | 'up' | 'down'): EnergyPoint[] {
  const c = r[proj];
  return r.ranks.map((rank, i) => ({ rank, mean: c.mean[i]!, band: [c.min[i]!, c.max[i]!] }));
}

/** Per threshold, the mean over experts of the smallest rank reaching it. */
export function energyRankTable(
  r: EnergyRecord,
): { threshold: number; gate: number; up: number; down: number }[] {
  const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return ENERGY_THRESHOLDS.map((t, i) => ({
    threshold: t,
    gate: avg(r.gate.rankAt[i] ?? []),
    up: avg(r.up.rankAt[i] ?? []),
    down: avg(r.down.rankAt[i] ?? []),
  }));
}

export function entropyPoints(records: readonly EntropyRecord[]) {
  return records.map((r) => ({
    layer: `L${r.layer}`,
    token: r.meanTokenEntropy,
    load: r.averageLoadEntropy,
    selection: r.selectionEntropy,
    max: r.maxEntropy,
  }));
}
