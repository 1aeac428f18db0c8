// Implementation of `expert-merge` (declaration: expert-merge.params.ts; METHODS §2.6, §2.7).
// Per layer, on the CURRENT model (after any earlier P/D step, and the already merged layers 0..l-1):
//   collect  one sweep over the calibration batches: top-k activation frequency (§2.6 step 2, always
//            recomputed on the current model) and, when asked, the router-logit or routed-output
//            Gram sums (merge/similarity.ts); the weight similarity needs no tokens. The similarity
//            is always computed on the current experts, so after P no re-indexing applies (§2.7).
//   apply    g_l groups (the solved global count split by §2.3, ctx.planned) by dominant-expert,
//            single-linkage or HC-SMoE average-linkage clustering (merge/grouping.ts), each fused
//            (merge/fusion.ts, merge/merge-view.ts).
// A layer whose planned group count is not below its expert count is left untouched.

import type { MoeLayerView } from '../model/types';
import type { ExpertMergeParams } from './expert-merge.params';
import type { FusionRule } from './merge/fusion';
import {
  averageLinkageGroups,
  dominantGroups,
  type Grouping,
  type SimilarityMatrix,
  singleLinkageGroups,
} from './merge/grouping';
import { mergeView } from './merge/merge-view';
import { MergeStatsCollector, pick, vectorSimilarity, weightSimilarity } from './merge/similarity';
import type { CurrentLayer, LayerSweep, StepContext, StepImplementation } from './method';

export interface MergeStats {
  frequency: number[];
  tokens: number[];
  similarity: SimilarityMatrix;
  /** what was compared: weight, router_logits, output, or mean_output (hc-smoe) */
  compared: string;
  similaritySeconds: number;
}

/** 'auto': the reference's coupling (l2 → LERP, cosine → SLERP); HC-SMoE merges frequency-weighted. */
export function fusionRule(p: Pick<ExpertMergeParams, 'fusion' | 'grouping' | 'metric'>): FusionRule {
  if (p.fusion !== 'auto') return p.fusion;
  if (p.grouping === 'hc-smoe') return 'frequency';
  return p.metric === 'cosine' ? 'slerp' : 'lerp';
}

const live = (layer: CurrentLayer) => layer.view !== null && !layer.ffnDropped && !layer.blockDropped;

/** Groups planned for layer l (the knob's §2.3 split), or null when the layer is not merged. */
export function groupsAt(ctx: StepContext<unknown>, l: number): number | null {
  if (ctx.knobs.groups === undefined) return null;
  const a = ctx.planned.layers.find((x) => x.layer === l);
  return a ? a.experts : null;
}

/** One sweep of the current layer, then the similarity the params ask for. */
export async function collectMergeStats(
  p: ExpertMergeParams,
  view: MoeLayerView,
  hidden: number,
  sweep: LayerSweep,
): Promise<MergeStats> {
  const N = view.experts.length;
  const hc = p.grouping === 'hc-smoe';
  const c = new MergeStatsCollector(view.layer, N, hidden, {
    routerLogits: !hc && p.similarity === 'router_logits',
    output: !hc && p.similarity === 'output',
    meanOutputs: hc,
  });
  await sweep(c.observer());
  const s = c.result();
  const t0 = performance.now();
  let compared: string;
  let similarity: SimilarityMatrix;
  if (hc) {
    compared = 'mean_output';
    similarity = pick(vectorSimilarity(s.meanOutputs!), p.metric);
  } else if (p.similarity === 'weight') {
    compared = 'weight';
    similarity = pick(weightSimilarity(view.experts), p.metric);
  } else {
    compared = p.similarity;
    similarity = pick(p.similarity === 'router_logits' ? s.routerLogits! : s.output!, p.metric);
  }
  const similaritySeconds = s.seconds + (performance.now() - t0) / 1000;
  return { frequency: s.frequency, tokens: s.tokens, similarity, compared, similaritySeconds };
}

export function groupLayer(p: ExpertMergeParams, stats: MergeStats, g: number): Grouping {
  switch (p.grouping) {
    case 'dominant':
      return dominantGroups(stats.similarity, stats.frequency, g);
    case 'global':
      return singleLinkageGroups(stats.similarity, stats.frequency, g);
    case 'hc-smoe':
      return averageLinkageGroups(stats.similarity, stats.frequency, g);
  }
}

export const expertMerge: StepImplementation<ExpertMergeParams> = {
  touches(ctx, layer) {
    if (!live(layer)) return false;
    const g = groupsAt(ctx as StepContext<unknown>, layer.layer);
    return g !== null && g < layer.view!.experts.length;
  },
  async collect(ctx, layer, sweep) {
    return collectMergeStats(ctx.params, layer.view!, ctx.spec.hidden, sweep);
  },
  apply(ctx, layer, raw) {
    const view = layer.view!;
    const p = ctx.params;
    const stats = raw as MergeStats;
    const N = view.experts.length;
    const g = Math.min(N, groupsAt(ctx as StepContext<unknown>, layer.layer) ?? N);
    const grouping = groupLayer(p, stats, g);
    const rule = fusionRule(p);
    const out = mergeView(view, grouping.groups, stats.frequency, {
      rule,
      factoredMerge: p.factoredMerge,
      svd: p.svd,
    });
    const factored = view.experts.some((e) => e.gate.kind !== 'dense');
    return {
      override: { moe: out },
      record: {
        method: 'expert-merge',
        grouping: p.grouping,
        similarity: stats.compared,
        metric: p.metric,
        fusion: rule,
        ...(factored ? { factoredMerge: p.factoredMerge } : {}),
        groups: out.sources!,
        leaders: grouping.leaders.map((e) => (view.sources ? view.sources[e]![0]! : e)),
        groupIndex: grouping.groups,
        similaritySeconds: stats.similaritySeconds,
        frequency: stats.frequency,
        tokens: stats.tokens,
        expertsBefore: N,
        expertsAfter: out.experts.length,
        topK: out.routing.topK,
      },
    };
  },
};
