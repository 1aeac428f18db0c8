// The stored state of layer l when the checkpoint itself is compressed (a factored / workbench-format
// export loaded again): its MoE view built from the stored tensors, or null when the layer is the
// plain architecture's. The caller owns and disposes the view. The executor and the runner both ask
// here, so a compressed model runs, and compresses further, like any model.
import { openFactoredLayer } from './factored-model';
import type { LoadedModel } from './model';
import type { LayerOverride } from './types';

export function sourceLayerOverride(model: LoadedModel, l: number): LayerOverride | null {
  const moe = openFactoredLayer(model, l);
  return moe ? { moe } : null;
}
