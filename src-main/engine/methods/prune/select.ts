// Which experts a removal step takes (METHODS §2.3, §2.5, §4.3), from per-expert scores. Pure, no
// tfjs. Ties: the lower expert index (and, globally, the lower layer) is removed first — a stable
// ascending sort, so equal scores (e.g. experts no calibration token reached, all 0) go in order.

const finite = (x: number) => (Number.isFinite(x) ? x : 0);

/** Indices of the n lowest scores (ties → lower index), in ascending index order. */
export function lowestScored(scores: readonly number[], n: number): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => finite(scores[a]!) - finite(scores[b]!) || a - b);
  return order.slice(0, Math.max(0, n)).sort((a, b) => a - b);
}

/** The complement of `removed` in 0..count-1, in original order. */
export function keptIndices(count: number, removed: readonly number[]): number[] {
  const r = new Set(removed);
  return Array.from({ length: count }, (_, i) => i).filter((i) => !r.has(i));
}

export interface LayerScores {
  layer: number;
  scores: readonly number[];
  /** fewest experts the layer must keep */
  minExperts: number;
}

/**
 * Global threshold (§2.3 strategy `threshold`, §4.3 global_pruning): rank every (layer, expert)
 * ascending by score and remove the lowest until `total` are gone, skipping an expert whose layer
 * would drop below its minExperts. Returns the experts removed per layer (ascending), or null when
 * the layers cannot give up that many.
 */
export function globalLowest(layers: readonly LayerScores[], total: number): Map<number, number[]> | null {
  const all: { layer: number; expert: number; score: number }[] = [];
  for (const l of layers)
    l.scores.forEach((s, e) => {
      all.push({ layer: l.layer, expert: e, score: finite(s) });
    });
  all.sort((a, b) => a.score - b.score || a.layer - b.layer || a.expert - b.expert);
  const left = new Map(layers.map((l) => [l.layer, l.scores.length - l.minExperts]));
  const out = new Map<number, number[]>(layers.map((l) => [l.layer, []]));
  let todo = total;
  for (const x of all) {
    if (todo === 0) break;
    if ((left.get(x.layer) ?? 0) <= 0) continue;
    left.set(x.layer, left.get(x.layer)! - 1);
    out.get(x.layer)!.push(x.expert);
    todo--;
  }
  if (todo > 0) return null;
  for (const v of out.values()) v.sort((a, b) => a - b);
  return out;
}
