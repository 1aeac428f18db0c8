// Loading side of the factored format: the MoE view of a decomposed layer, built from the model's
// own router / shared-expert tensors plus factor tensors from a reader (the checkpoint itself for an
// exported folder, a work-dir layer file while a run resumes).
import fs from 'node:fs';
import { EngineError } from '../errors';
import type { Checkpoint } from '../io/checkpoint';
import type { LoadedModel } from './model';
import type { ExpertWeights, Linear, ModelSpec, MoeLayerView, Tensor2D } from './types';
import {
  expertsFromManifest,
  type FactoredBlock,
  FORMAT_KEY,
  type LayerManifest,
  PROJ,
  parseFactoredBlock,
} from './factored-format';

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
    const s: ExpertWeights = {
      gate: lin(`${p}.${STD.gate}`),
      up: lin(`${p}.${STD.up}`),
      down: lin(`${p}.${STD.down}`),
    };
    view.shared =
      spec.sharedGate && n.sharedExpertGate
        ? { ...s, gateWeight: mat(`${m}.${n.sharedExpertGate}.weight`) }
        : s;
  }
  return view;
}

/** The view of a factored layer of an exported checkpoint (caller disposes with disposeMoeView). */
export function openFactoredLayer(
  model: LoadedModel & { factored?: FactoredBlock },
  l: number,
): MoeLayerView | null {
  const manifest = model.factored?.layers[String(l)];
  if (!manifest) return null;
  return factoredLayerView(
    model,
    l,
    manifest,
    (n) => model.checkpoint.readTensor(n) as Tensor2D,
    model.configFile,
  );
}

/** Read the config block and check every factor tensor named in it exists with consistent shapes. */
export function loadFactoredBlock(spec: ModelSpec, ck: Checkpoint, configFile: string): FactoredBlock | null {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  const block = parseFactoredBlock(config, configFile, spec.layers);
  if (!block) return null;
  const h = spec.hidden;
  const I = spec.moeIntermediate;
  const dims = { gate: [I, h], up: [I, h], down: [h, I] } as const;
  for (const [k, m] of Object.entries(block.layers)) {
    for (let e = 0; e < spec.experts; e++) {
      for (const p of PROJ) {
        const r = m.experts[String(e)]?.[p];
        const field = `${FORMAT_KEY}.layers.${k}.experts.${e}.${p}`;
        if (!r)
          throw new EngineError(`missing factor names for expert ${e} ${p}`, { file: configFile, field });
        for (const n of [r.A, r.B]) {
          if (!ck.has(n))
            throw new EngineError(`factor tensor '${n}' is not in the weights`, { file: configFile, field });
        }
        const a = ck.info(r.A).shape;
        const b = ck.info(r.B).shape;
        const [out, inp] = dims[p];
        if (a.length !== 2 || b.length !== 2 || a[0] !== out || b[1] !== inp || a[1] !== b[0]) {
          throw new EngineError(`factor shapes [${a}]·[${b}] do not make a [${out}, ${inp}] matrix`, {
            file: configFile,
            field,
          });
        }
      }
    }
  }
  return block;
}
