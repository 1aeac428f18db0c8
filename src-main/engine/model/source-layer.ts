// The stored state of layer l when the checkpoint itself is compressed (a workbench-format export
// loaded again, docs/workbench-format.md): its MoE view built from the stored tensors, a dropped MoE
// sub-layer or a dropped block; null when the layer is the plain architecture's. The caller owns and
// disposes the view (disposeMoeView). The executor and the runner both ask here, so a compressed
// model runs, and compresses further, like any model.

import { tf } from '../tensor/backend';
import { viewFromManifest } from './layer-manifest';
import type { LoadedModel } from './model';
import type { LayerOverride, Tensor1D, Tensor2D } from './types';

export function sourceLayerOverride(model: LoadedModel, l: number): LayerOverride | null {
  const s = model.stored?.layers.get(l);
  if (!s) return null;
  if ('drop' in s) return s.drop === 'block' ? { skipBlock: true } : { skipFfn: true };
  const ck = model.checkpoint;
  const read: Tensor2D[] = [];
  try {
    const moe = viewFromManifest(
      l,
      s.view,
      model.spec.routing,
      (name) => {
        const t = ck.readTensor(name) as Tensor2D | Tensor1D;
        read.push(t as Tensor2D);
        return t;
      },
      (data, shape) => {
        const t = tf.tensor2d(data, shape);
        read.push(t);
        return t;
      },
    );
    return { moe };
  } catch (e) {
    for (const t of read) t.dispose();
    throw e;
  }
}
