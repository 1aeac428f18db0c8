// The surfaces of a sweep (METHODS §2.9 figures) from its points' metrics: per ratio, the value over
// the contribution simplex for every order; order sensitivity (A→B vs B→A at the same shares); the
// best single / pair / triple; and the best strategy per compression level (the reference's
// Figure 8). Pure functions of stored data, shared by the sweep page, the CLI and the reports.
// Lower is better unless told otherwise (perplexity); a point without the metric is left out, never zero.

export interface SurfacePoint {
  hash: string;
  ratio: number;
  order: string[];
  contributions: Record<string, number>;
  status: string;
  runId: number | null;
  metrics: Record<string, number>;
}

export interface SimplexCell {
  order: string;
  /** shares in the order's families, base order */
  contributions: Record<string, number>;
  value: number;
  runId: number | null;
}

export interface OrderPair {
  /** e.g. "P→D" vs "D→P" */
  forward: string;
  backward: string;
  ratio: number;
  contributions: Record<string, number>;
  forwardValue: number;
  backwardValue: number;
  /** forward − backward: negative means the forward order is better */
  delta: number;
  forwardRunId: number | null;
  backwardRunId: number | null;
}

export interface BestOf {
  ratio: number;
  /** number of methods in the pipeline: 1 single, 2 pair, 3 triple */
  size: number;
  order: string;
  contributions: Record<string, number>;
  value: number;
  runId: number | null;
}

export interface SweepSurfaces {
  metric: string;
  ratios: number[];
  /** per ratio: every point with the metric */
  simplex: Record<string, SimplexCell[]>;
  orderSensitivity: OrderPair[];
  bestOf: BestOf[];
  /** per ratio: the best point of any size */
  bestStrategy: BestOf[];
}

const arrow = (o: readonly string[]) => o.join('→');
const FAMILY_RANK = ['P', 'M', 'D', 'T', 'S', 'Q'];
const shareKey = (c: Record<string, number>) =>
  Object.keys(c)
    .sort()
    .map((k) => `${k}${c[k]!.toFixed(6)}`)
    .join('/');

/** `better`: which way the metric improves (perplexity: lower; accuracy, throughput: higher). */
export function sweepSurfaces(
  points: readonly SurfacePoint[],
  metric = 'ppl',
  better: 'lower' | 'higher' = 'lower',
): SweepSurfaces {
  const ok = points.filter((p) => p.status === 'succeeded' && Number.isFinite(p.metrics[metric]));
  const ratios = [...new Set(ok.map((p) => p.ratio))].sort((a, b) => a - b);
  const simplex: Record<string, SimplexCell[]> = {};
  for (const r of ratios)
    simplex[String(r)] = ok
      .filter((p) => p.ratio === r)
      .map((p) => ({
        order: arrow(p.order),
        contributions: p.contributions,
        value: p.metrics[metric]!,
        runId: p.runId,
      }));

  const orderSensitivity: OrderPair[] = [];
  const byKey = new Map(ok.map((p) => [`${p.ratio}|${arrow(p.order)}|${shareKey(p.contributions)}`, p]));
  for (const p of ok) {
    // pairs, each once: forward is the order whose first family comes first in P, M, D, T, S, Q
    if (p.order.length !== 2) continue;
    const rev = [...p.order].reverse();
    if (FAMILY_RANK.indexOf(p.order[0]!) > FAMILY_RANK.indexOf(rev[0]!)) continue;
    const q = byKey.get(`${p.ratio}|${arrow(rev)}|${shareKey(p.contributions)}`);
    if (!q) continue;
    orderSensitivity.push({
      forward: arrow(p.order),
      backward: arrow(rev),
      ratio: p.ratio,
      contributions: p.contributions,
      forwardValue: p.metrics[metric]!,
      backwardValue: q.metrics[metric]!,
      delta: p.metrics[metric]! - q.metrics[metric]!,
      forwardRunId: p.runId,
      backwardRunId: q.runId,
    });
  }
  orderSensitivity.sort(
    (a, b) =>
      a.ratio - b.ratio ||
      a.forward.localeCompare(b.forward) ||
      shareKey(a.contributions).localeCompare(shareKey(b.contributions)),
  );

  const best = (xs: readonly SurfacePoint[]): SurfacePoint | null =>
    xs.reduce<SurfacePoint | null>(
      (b, p) =>
        b === null ||
        (better === 'lower'
          ? p.metrics[metric]! < b.metrics[metric]!
          : p.metrics[metric]! > b.metrics[metric]!)
          ? p
          : b,
      null,
    );
  const asBest = (p: SurfacePoint): BestOf => ({
    ratio: p.ratio,
    size: p.order.length,
    order: arrow(p.order),
    contributions: p.contributions,
    value: p.metrics[metric]!,
    runId: p.runId,
  });
  const bestOf: BestOf[] = [];
  const bestStrategy: BestOf[] = [];
  for (const r of ratios) {
    const at = ok.filter((p) => p.ratio === r);
    for (const size of [...new Set(at.map((p) => p.order.length))].sort()) {
      const b = best(at.filter((p) => p.order.length === size));
      if (b) bestOf.push(asBest(b));
    }
    const b = best(at);
    if (b) bestStrategy.push(asBest(b));
  }
  return { metric, ratios, simplex, orderSensitivity, bestOf, bestStrategy };
}
