// A low-rank method as a pipeline step. Statistics come from LayerStatsCollector on the current
// layer; the rank comes from the solved knob; a method with a plan pass (MoE-SVD) ranks the layers
// by sensitivity there and decomposes the `layers` least sensitive ones (its knob's layer count).
import { type LayerStats, LayerStatsCollector, type StatsNeeds } from '../../calibration/layer-stats';
import type { LayerPlanState, ModelPlanState } from '../../pipeline/plan-state';
import type { CurrentLayer, LayerSweep, StepContext, StepImplementation } from '../method';
import type { LowRankMethod } from '../types';
import { decomposableLayers } from './knob';

async function collect(
  ctx: StepContext<unknown>,
  layer: CurrentLayer,
  sweep: LayerSweep,
  needs: StatsNeeds,
): Promise<LayerStats> {
  const c = new LayerStatsCollector(
    layer.layer,
    layer.view!.experts.length,
    { hidden: ctx.spec.hidden, intermediate: ctx.spec.moeIntermediate },
    needs,
  );
  await sweep(c.observer());
  return c.result();
}

interface Decision {
  layers: number[];
  sensitivity?: Record<string, number>;
}

/** `eligible`: the layers a plan-pass method may select from (default: every decomposable layer). */
export function lowRankStep<P>(
  m: LowRankMethod<P>,
  eligible: (p: P, s: ModelPlanState) => LayerPlanState[] = (_p, s) => decomposableLayers(s),
): StepImplementation<P> {
  const step: StepImplementation<P> = {
    touches(ctx, layer) {
      if (ctx.knobs.rank === undefined || !layer.view) return false;
      const d = ctx.decision as Decision | null;
      if (d) return d.layers.includes(layer.layer);
      return decomposableLayers(ctx.before).some((l) => l.layer === layer.layer);
    },
    async collect(ctx, layer, sweep) {
      return collect(ctx as StepContext<unknown>, layer, sweep, m.needs(ctx.params));
    },
    apply(ctx, layer, stats) {
      const out = m.compressLayer({
        view: layer.view!,
        stats: stats as LayerStats,
        rank: ctx.knobs.rank!,
        params: ctx.params,
      });
      const d = ctx.decision as Decision | null;
      const sens = d?.sensitivity?.[String(layer.layer)];
      return {
        override: { moe: out.view },
        record: { ...out.record, ...(sens !== undefined ? { sensitivity: sens } : {}) },
      };
    },
  };
  const plan = m.planPass;
  if (plan) {
    step.planLayer = async (ctx, layer, sweep) => {
      if (!layer.view || ctx.knobs.rank === undefined) return null;
      const first = await collect(ctx as StepContext<unknown>, layer, sweep, plan.needs(ctx.params));
      const second = plan.secondPass?.(ctx.params, first) ?? null;
      const stats = second ? await collect(ctx as StepContext<unknown>, layer, sweep, second) : first;
      return plan.summarize({ layer: layer.layer, stats, view: layer.view }, ctx.params);
    };
    step.decide = (ctx, summaries): Decision => {
      const sensitivity: Record<string, number> = {};
      for (const [l, s] of summaries)
        if (s) sensitivity[String(l)] = (s as { sensitivity?: number }).sensitivity ?? 0;
      if (ctx.knobs.rank === undefined) return { layers: [], sensitivity };
      const order = eligible(ctx.params, ctx.before)
        .map((l) => l.layer)
        .sort((a, b) => (sensitivity[String(a)] ?? 0) - (sensitivity[String(b)] ?? 0) || a - b);
      const d = ctx.knobs.layers ?? order.length;
      return { layers: order.slice(0, d).sort((a, b) => a - b), sensitivity };
    };
  }
  return step;
}
