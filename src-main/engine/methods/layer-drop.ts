// Implementation of `layer-drop` (declaration: layer-drop.params.ts). Plan pass: per live MoE layer
// the mean token cosine between the residual after attention (layer input + attention output, the
// executor's own f32 sum) and the layer output; decide: the `layersDropped` most similar layers;
// apply: skipFfn.
import type { LayerObserver, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import type { LayerDropParams } from './layer-drop.params';
import type { CurrentLayer, StepImplementation } from './method';
import { mostSimilar } from './trim/rank-layers';
import { TokenCosineMean } from './trim/token-cosine';

export interface LayerDropDecision {
  layers: number[];
  similarity: Record<string, number>;
}

/** Observer accumulating mean cos(x + attn(x), layer output) over a sweep. */
export function residualCosine(h: number): { observer: LayerObserver; result: TokenCosineMean } {
  const result = new TokenCosineMean();
  let input: Tensor2D | null = null;
  let afterAttention: Float32Array | null = null;
  const observer: LayerObserver = {
    onLayerInput: (e) => {
      input?.dispose();
      input = tf.clone(e.hidden);
    },
    onAttentionOutput: (e) => {
      const a = tf.add(input!, e.output);
      afterAttention = a.dataSync() as Float32Array;
      a.dispose();
      input!.dispose();
      input = null;
    },
    onLayerOutput: (e) => {
      result.add(afterAttention!, e.hidden.dataSync(), h);
      afterAttention = null;
    },
  };
  return { observer, result };
}

const liveMoe = (layer: CurrentLayer) =>
  layer.kind === 'moe' && layer.view !== null && !layer.ffnDropped && !layer.blockDropped;

export const layerDrop: StepImplementation<LayerDropParams> = {
  async planLayer(ctx, layer, sweep) {
    if (!ctx.knobs.layersDropped || !liveMoe(layer)) return null;
    const { observer, result } = residualCosine(ctx.spec.hidden);
    await sweep(observer);
    return { similarity: result.mean(), tokens: result.tokens };
  },
  decide(ctx, summaries): LayerDropDecision {
    const sim = new Map<number, number>();
    for (const [l, s] of summaries) if (s) sim.set(l, (s as { similarity: number }).similarity);
    return {
      layers: mostSimilar(sim, ctx.knobs.layersDropped ?? 0),
      similarity: Object.fromEntries([...sim].map(([l, v]) => [String(l), v])),
    };
  },
  touches(ctx, layer) {
    const d = ctx.decision as LayerDropDecision | null;
    return !!d && d.layers.includes(layer.layer);
  },
  apply(ctx, layer) {
    const d = ctx.decision as LayerDropDecision;
    return {
      override: { skipFfn: true },
      record: { method: 'layer-drop', dropped: 'ffn', similarity: d.similarity[String(layer.layer)] ?? null },
    };
  },
};
