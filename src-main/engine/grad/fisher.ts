// Empirical Fisher of the routed-expert matrices (METHODS §3.1 item 2): per parameter, the mean
// over calibration sequences of the squared gradient of that sequence's causal-LM loss — one
// backward per sequence, as D²-MoE's get_fisher.py (which accumulates in bf16; here f32). Optional
// 'diagonal' mode: mean over rows, then square root → one value per input column.
// The loss is the standard next-token loss by default; `shift: 'reference'` reproduces the reference's
// double label shift (grad/backward.ts). Each layer's Fisher is handed to `onLayer` as soon as the
// backward sweep has passed it, so a caller can write it to disk and hold one layer at a time.

import type { ExecLinear } from '../model/blocks/linear';
import { tf } from '../tensor/backend';
import { type StreamedBackwardOptions, type StreamedBackwardResult, streamedBackward } from './backward';

export type FisherMode = 'full' | 'diagonal';

export const FISHER_PROJECTIONS = ['gate', 'up', 'down'] as const;
export type FisherProjection = (typeof FISHER_PROJECTIONS)[number];

/** One expert matrix's Fisher: HF layout [out, in] ('full') or [in] ('diagonal'). */
export interface MatrixFisher {
  shape: number[];
  data: Float32Array;
}

/** Per routed expert (null when the expert's matrices are not dense), per projection. */
export type LayerFisher = (Record<FisherProjection, MatrixFisher> | null)[];

export interface FisherOptions
  extends Omit<StreamedBackwardOptions, 'parameters' | 'onGradients' | 'onLayer'> {
  mode?: FisherMode;
  onLayer(l: number, fisher: LayerFisher): void | Promise<void>;
}

function readOnce(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

export async function expertFisher(o: FisherOptions): Promise<StreamedBackwardResult> {
  const mode = o.mode ?? 'full';
  const S = o.sequences.length;
  // layer being accumulated: squared-gradient sums of the pre-transposed wT [in, out]
  let slots: { expert: number; proj: FisherProjection; wT: tf.Tensor }[] = [];
  let acc: (tf.Tensor | null)[] = [];
  let experts = 0;
  const { mode: _m, onLayer, ...rest } = o;
  return streamedBackward({
    ...rest,
    parameters(_l, layer) {
      slots = [];
      experts = 0;
      if (layer.ffn.kind === 'moe') {
        experts = layer.ffn.moe.experts.length;
        layer.ffn.moe.experts.forEach((ex, e) => {
          const dense = FISHER_PROJECTIONS.every((p) => (ex[p] as ExecLinear).kind === 'dense');
          if (!dense) return;
          for (const p of FISHER_PROJECTIONS) {
            const L = ex[p] as Extract<ExecLinear, { kind: 'dense' }>;
            slots.push({ expert: e, proj: p, wT: L.wT });
          }
        });
      }
      acc = slots.map(() => null);
      return slots.map((s) => s.wT);
    },
    onGradients(_l, _s, grads) {
      grads.forEach((g, i) => {
        if (!g) return;
        const prev = acc[i];
        acc[i] = tf.keep(prev ? tf.tidy(() => tf.add(prev, tf.square(g))) : tf.tidy(() => tf.square(g)));
        prev?.dispose();
      });
    },
    async onLayer(l) {
      const out: LayerFisher = Array.from({ length: experts }, () => null);
      try {
        slots.forEach((s, i) => {
          const [inDim, outDim] = s.wT.shape as [number, number];
          const a = acc[i];
          let m: MatrixFisher;
          if (mode === 'full') {
            const data = a
              ? readOnce(tf.tidy(() => tf.div(tf.transpose(a), S)))
              : new Float32Array(inDim * outDim);
            m = { shape: [outDim, inDim], data };
          } else {
            // mean over HF rows (= the out axis, axis 1 of wT), then sqrt
            const data = a
              ? readOnce(tf.tidy(() => tf.sqrt(tf.div(tf.mean(a, 1), S))))
              : new Float32Array(inDim);
            m = { shape: [inDim], data };
          }
          if (!out[s.expert]) out[s.expert] = {} as Record<FisherProjection, MatrixFisher>;
          out[s.expert]![s.proj] = m;
        });
      } finally {
        tf.dispose(acc.filter((t): t is tf.Tensor => t !== null));
        acc = [];
        slots = [];
      }
      await onLayer(l, out);
    },
  });
}
