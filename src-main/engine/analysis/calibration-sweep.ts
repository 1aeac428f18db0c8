// The layer loop every calibration-based analysis shares: embed the calibration sequences once,
// then per decoder layer hand the visitor the layer's current MoE view and a sweep over the batches
// with an observer attached, and push the batches through the layer. The model runs as stored (a
// workbench-format checkpoint runs compressed), one layer resident at a time.
import { CancelledError } from '../errors';
import { type HiddenBatch, StreamingExecutor } from '../model/executor';
import { disposeMoeView, readMoeView } from '../model/layer-weights';
import type { LoadedModel } from '../model/model';
import { sourceLayerOverride } from '../model/source-layer';
import type { LayerObserver, MoeLayerView } from '../model/types';
import { tf } from '../tensor/backend';

export interface SweepOptions {
  /** run every expert on every token (ExpertEvent.allTokens) */
  allExperts?: boolean;
  /** stop after the batch that reaches this many tokens */
  maxTokens?: number;
  /** called before each batch with the index of its first token among all calibration tokens */
  onBatch?(tokenOffset: number): void;
}

export interface SweptLayer {
  layer: number;
  /** the layer's routed MoE view as the model stores it; null for a dense layer or a dropped one */
  view: MoeLayerView | null;
  /** runs the layer on the calibration batches (inputs as the model's earlier layers produce them) */
  sweep(observer: LayerObserver, opts?: SweepOptions): Promise<void>;
}

export interface SweepRun {
  signal?: AbortSignal;
  /** only these layers are visited (all are propagated); default every layer */
  layers?: readonly number[];
  onLayer?(layer: number, layers: number): void;
}

/** The current MoE view of layer l (caller disposes), or null. */
export function currentView(model: LoadedModel, l: number): MoeLayerView | null {
  const stored = sourceLayerOverride(model, l);
  if (stored) return stored.moe ?? null;
  return model.spec.layerKinds[l] === 'moe' ? readMoeView(model, l) : null;
}

export async function forEachLayer(
  model: LoadedModel,
  calibration: readonly (readonly number[])[],
  batch: number,
  visit: (l: SweptLayer) => Promise<void>,
  run: SweepRun = {},
): Promise<void> {
  const exec = new StreamingExecutor(model, run.signal ? { signal: run.signal } : {});
  const L = model.spec.layers;
  const last = run.layers ? Math.max(-1, ...run.layers) : L - 1;
  const wanted = run.layers ? new Set(run.layers) : null;
  const batches: HiddenBatch[] = [];
  try {
    for (let i = 0; i < calibration.length; i += batch)
      batches.push(exec.embed(calibration.slice(i, i + batch) as number[][]));
    for (let l = 0; l <= last; l++) {
      if (run.signal?.aborted) throw new CancelledError();
      if (!wanted || wanted.has(l)) {
        const view = currentView(model, l);
        try {
          await visit({
            layer: l,
            view,
            sweep: async (observer, opts = {}) => {
              let offset = 0;
              for (const b of batches) {
                if (run.signal?.aborted) throw new CancelledError();
                opts.onBatch?.(offset);
                const y = await exec.runLayer(l, b, observer, { allExperts: opts.allExperts === true });
                y.dispose();
                offset += b.batch * b.seqLen;
                if (opts.maxTokens !== undefined && offset >= opts.maxTokens) break;
              }
            },
          });
        } finally {
          if (view) disposeMoeView(view);
        }
        run.onLayer?.(l, L);
      }
      if (l === last) break;
      for (let i = 0; i < batches.length; i++) {
        const y = await exec.runLayer(l, batches[i]!);
        batches[i]!.hidden.dispose();
        batches[i] = { ...batches[i]!, hidden: y };
      }
    }
  } finally {
    tf.dispose(batches.map((b) => b.hidden));
  }
}
