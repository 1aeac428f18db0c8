// Loading side of the factored format: the MoE view of a decomposed layer, built from the model's
// own router / shared-expert tensors plus factor tensors from a reader (the checkpoint itself for an
// exported folder, a work-dir layer file while a run resumes).
import type { LoadedModel } from '../model/model';
import type { ExpertWeights, Linear, MoeLayerView, Tensor2D } from '../model/types';
import { expertsFromManifest, type LayerManifest } from './factored-format';

const STD = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' } as const;

export function factoredLayerView(
  model: LoadedModel,
  l: number,
  manifest: LayerManifest,
  read: (name: string) => Tensor2D,
  where: string,
): MoeLayerView {
  const { spec, checkpoint: ck } = model;
  const n = spec.names;
  const m = n.moe(l);
  const mat = (name: string) => ck.readTensor(name) as Tensor2D;
  const view: MoeLayerView = {
    layer: l,
    router: mat(`${m}.${n.router}.weight`),
    experts: expertsFromManifest(manifest, spec.experts, read, where),
    routing: spec.routing,
  };
  if (spec.sharedIntermediate > 0 && n.sharedExpert) {
    const lin = (name: string): Linear => ({ kind: 'dense', w: mat(`${name}.weight`) });
    const p = `${m}.${n.sharedExpert}`;
    const s: ExpertWeights = { gate: lin(`${p}.${STD.gate}`), up: lin(`${p}.${STD.up}`), down: lin(`${p}.${STD.down}`) };
    view.shared = spec.sharedGate && n.sharedExpertGate ? { ...s, gateWeight: mat(`${m}.${n.sharedExpertGate}.weight`) } : s;
  }
  return view;
}
