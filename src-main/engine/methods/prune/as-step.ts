// An expert-removal method (expert-prune, expert-drop) as a pipeline step. Per layer, scores are
// collected on the inputs the current layers 0..l-1 produce and the lowest-scored experts are removed
// (keep-experts.ts). How many per layer:
// * a local split (strategy fixed, layerwise expert drop): before − planned experts of the layer, i.e.
//   the knob's §2.3 split (distributeRemovals) — what `moe-bench plan` shows;
// * a global split (strategy threshold, global expert drop): a plan pass scores every layer on the
//   model before the step; `decide` ranks all (layer, expert) ascending and takes the lowest until
//   expertsRemoved are gone, never leaving a layer below its minExperts (select.ts globalLowest).
//   The decision is the per-layer COUNTS; which experts go is then chosen per layer from the scores
//   recollected in `collect` on the current inputs (earlier layers of this step already pruned), so
//   both paths remove the lowest-scored experts of the layer as the step's model sees it.
import { EngineError } from '../../errors';
import type { ModelSpec } from '../../model/types';
import type { CurrentLayer, LayerSweep, StepContext, StepImplementation } from '../method';
import { ExpertScoreAccumulator } from './expert-scores';
import { keepExperts, originalIds } from './keep-experts';
import { OUTPUT_METRICS, type PruneMetric, type ScoreMetric } from './score-metric';
import { globalLowest, keptIndices, lowestScored } from './select';

export interface RemovalSpec<P> {
  method: string;
  metric(p: P, spec: ModelSpec): ScoreMetric;
  /** sweep with every expert on every token (ExpertEvent.allTokens) */
  allExperts(p: P): boolean;
  /** the per-layer counts come from a plan pass over all layers */
  global(p: P): boolean;
}

export interface RemovalDecision {
  /** experts removed per layer (layer index as key) */
  removals: Record<string, number>;
  /** which experts the plan pass would remove (current indices), for the record */
  planned: Record<string, number[]>;
}

interface Summary {
  scores: number[];
  minExperts: number;
}

const live = (layer: CurrentLayer) => layer.view !== null && !layer.ffnDropped && !layer.blockDropped;

async function scoreLayer<P>(
  spec: RemovalSpec<P>,
  ctx: StepContext<P>,
  layer: CurrentLayer,
  sweep: LayerSweep,
): Promise<number[]> {
  const metric = spec.metric(ctx.params, ctx.spec);
  const acc = new ExpertScoreAccumulator(layer.layer, layer.view!.experts.length, metric);
  const all = spec.allExperts(ctx.params) && OUTPUT_METRICS.includes(metric as PruneMetric);
  await sweep(acc.observer(), all ? { allExperts: true } : undefined);
  return acc.scores();
}

/** Experts to remove from layer l in this step. */
export function removalsAt(ctx: StepContext<unknown>, l: number): number {
  const d = ctx.decision as RemovalDecision | null;
  if (d) return d.removals[String(l)] ?? 0;
  const b = ctx.before.layers.find((x) => x.layer === l);
  const a = ctx.planned.layers.find((x) => x.layer === l);
  return b && a ? Math.max(0, b.experts - a.experts) : 0;
}

export function removalStep<P>(spec: RemovalSpec<P>): StepImplementation<P> {
  const total = (ctx: StepContext<P>) => ctx.knobs.expertsRemoved ?? 0;
  return {
    usesPlanPass: (p) => spec.global(p),
    async planLayer(ctx, layer, sweep) {
      if (!spec.global(ctx.params) || total(ctx) === 0 || !live(layer)) return null;
      const s: Summary = {
        scores: await scoreLayer(spec, ctx, layer, sweep),
        minExperts: layer.plan.minExperts,
      };
      return s;
    },
    decide(ctx, summaries): RemovalDecision | null {
      if (!spec.global(ctx.params) || total(ctx) === 0) return null;
      const layers = [...summaries]
        .filter(([, s]) => s !== null && s !== undefined)
        .map(([layer, s]) => ({ layer, ...(s as Summary) }));
      const picked = globalLowest(layers, total(ctx));
      if (!picked)
        throw new EngineError(
          `${spec.method}: cannot remove ${total(ctx)} experts while every layer keeps its minimum`,
          {
            field: 'steps',
          },
        );
      const removals: Record<string, number> = {};
      const planned: Record<string, number[]> = {};
      for (const [l, ids] of picked) {
        removals[String(l)] = ids.length;
        planned[String(l)] = ids;
      }
      return { removals, planned };
    },
    touches(ctx, layer) {
      return total(ctx) > 0 && live(layer) && removalsAt(ctx as StepContext<unknown>, layer.layer) > 0;
    },
    async collect(ctx, layer, sweep) {
      return { scores: await scoreLayer(spec, ctx, layer, sweep) };
    },
    apply(ctx, layer, stats) {
      const view = layer.view!;
      const N = view.experts.length;
      const { scores } = stats as { scores: number[] };
      if (scores.length !== N) throw new Error(`${spec.method}: ${scores.length} scores for ${N} experts`);
      const n = removalsAt(ctx as StepContext<unknown>, layer.layer);
      const removed = lowestScored(scores, n);
      const kept = keptIndices(N, removed);
      const out = keepExperts(view, kept);
      return {
        override: { moe: out },
        record: {
          method: spec.method,
          metric: spec.metric(ctx.params, ctx.spec),
          scores,
          removed: originalIds(view, removed),
          kept: originalIds(view, kept),
          removedIndex: removed,
          expertsBefore: N,
          expertsAfter: kept.length,
          topK: out.routing.topK,
        },
      };
    },
  };
}
