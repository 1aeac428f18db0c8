// Grouping of one layer's experts from an N×N similarity matrix (METHODS §2.6 step 3; HC-SMoE).
// Pure JS on small matrices (N ≤ a few hundred), no tfjs.
//
// * dominant: leaders = the g most important experts (importance descending, ties → lower index);
//   every other expert joins the leader it is most similar to, leaders scanned in importance order
//   with strict improvement (ties → the first leader in importance order). Singletons allowed.
// * single linkage ('global'): start from singletons; while more than g clusters, merge the pair with
//   the best link = max pairwise cosine / min pairwise L2 between members; pairs scanned in index
//   order (a < b over the current cluster list), strict improvement, so the first best pair wins a
//   tie; the merged cluster takes the place of the first one (b is removed from the list).
// * average linkage (HC-SMoE): the same loop with link = mean of the pairwise values.
//
// 'cosine' values are similarities (larger = closer), 'l2' values distances (smaller = closer). NaN
// is never better than a number. The result is put in a canonical order (`canonicalGroups`): each
// group leader first then its other members ascending, groups ordered by the leader's index, so g = N
// gives every expert back in place.

export type SimilarityMetric = 'l2' | 'cosine';

export interface SimilarityMatrix {
  metric: SimilarityMetric;
  /** values[i][j] for experts i, j (symmetric) */
  values: number[][];
}

/** cand is strictly better than cur under metric (NaN never better; any number beats NaN). */
export function improves(metric: SimilarityMetric, cand: number, cur: number): boolean {
  if (Number.isNaN(cand)) return false;
  if (Number.isNaN(cur)) return true;
  return metric === 'cosine' ? cand > cur : cand < cur;
}

/** Experts by importance, descending; ties → lower index first. */
export function importanceOrder(importance: readonly number[]): number[] {
  return importance
    .map((v, i) => ({ v: Number.isFinite(v) ? v : -Infinity, i }))
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .map((x) => x.i);
}

export interface Grouping {
  /** current expert indices per group, leader first then the others ascending; groups by leader index */
  groups: number[][];
  /** the leader of each group (same order as groups) */
  leaders: number[];
}

/**
 * Canonical order: within a group the leader (the most important member — importance desc, ties →
 * lower index — unless given) first, the others ascending; groups ascending by leader index.
 */
export function canonicalGroups(
  groups: number[][],
  importance: readonly number[],
  leaders?: readonly number[],
): Grouping {
  const rank = new Map(importanceOrder(importance).map((e, r) => [e, r]));
  const out = groups.map((g, gi) => {
    const lead = leaders?.[gi] ?? [...g].sort((a, b) => (rank.get(a) ?? a) - (rank.get(b) ?? b) || a - b)[0]!;
    return [lead, ...g.filter((e) => e !== lead).sort((a, b) => a - b)];
  });
  out.sort((a, b) => a[0]! - b[0]!);
  return { groups: out, leaders: out.map((g) => g[0]!) };
}

function checkCount(n: number, g: number): void {
  if (!Number.isInteger(g) || g < 1 || g > n)
    throw new RangeError(`cannot form ${g} groups from ${n} experts`);
}

/** Dominant-expert clustering (the compression-MoE sweep's `model_expert_merging_leading_for_all`). */
export function dominantGroups(sim: SimilarityMatrix, importance: readonly number[], g: number): Grouping {
  const n = importance.length;
  checkCount(n, g);
  const leaders = importanceOrder(importance).slice(0, g);
  const isLeader = new Set(leaders);
  const members = leaders.map(() => [] as number[]);
  for (let e = 0; e < n; e++) {
    if (isLeader.has(e)) continue;
    let best = 0;
    for (let j = 1; j < leaders.length; j++)
      if (improves(sim.metric, sim.values[e]![leaders[j]!]!, sim.values[e]![leaders[best]!]!)) best = j;
    members[best]!.push(e);
  }
  return canonicalGroups(
    leaders.map((l, j) => [l, ...members[j]!]),
    importance,
    leaders,
  );
}

type Link = 'single' | 'average';

function linkValue(sim: SimilarityMatrix, a: readonly number[], b: readonly number[], link: Link): number {
  if (link === 'average') {
    let s = 0;
    for (const i of a) for (const j of b) s += sim.values[i]![j]!;
    return s / (a.length * b.length);
  }
  let best = Number.NaN;
  for (const i of a)
    for (const j of b) if (improves(sim.metric, sim.values[i]![j]!, best)) best = sim.values[i]![j]!;
  return best;
}

/** Agglomerative clustering of n items down to g clusters (clusters as member lists, merge order). */
export function agglomerate(sim: SimilarityMatrix, n: number, g: number, link: Link): number[][] {
  checkCount(n, g);
  const clusters = Array.from({ length: n }, (_, i) => [i]);
  while (clusters.length > g) {
    let ba = -1;
    let bb = -1;
    let bv = Number.NaN;
    for (let a = 0; a < clusters.length; a++)
      for (let b = a + 1; b < clusters.length; b++) {
        const v = linkValue(sim, clusters[a]!, clusters[b]!, link);
        if (ba < 0 || improves(sim.metric, v, bv)) {
          ba = a;
          bb = b;
          bv = v;
        }
      }
    clusters[ba] = [...clusters[ba]!, ...clusters[bb]!];
    clusters.splice(bb, 1);
  }
  return clusters;
}

/** Global similarity clustering (single linkage), canonical order with the most important member leading. */
export function singleLinkageGroups(
  sim: SimilarityMatrix,
  importance: readonly number[],
  g: number,
): Grouping {
  return canonicalGroups(agglomerate(sim, importance.length, g, 'single'), importance);
}

/** HC-SMoE: average-linkage hierarchical clustering. */
export function averageLinkageGroups(
  sim: SimilarityMatrix,
  importance: readonly number[],
  g: number,
): Grouping {
  return canonicalGroups(agglomerate(sim, importance.length, g, 'average'), importance);
}

/** cosine or L2 from a Gram matrix (f64); an all-zero vector has cosine 0 with everything. */
export function fromGram(G: readonly (readonly number[])[], metric: SimilarityMetric): number[][] {
  const n = G.length;
  const d = Array.from({ length: n }, (_, i) => Math.max(0, G[i]![i]!));
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      if (metric === 'cosine') {
        const den = Math.sqrt(d[i]! * d[j]!);
        return den > 0 ? Math.max(-1, Math.min(1, G[i]![j]! / den)) : 0;
      }
      return i === j ? 0 : Math.sqrt(Math.max(0, d[i]! + d[j]! - 2 * G[i]![j]!));
    }),
  );
}
