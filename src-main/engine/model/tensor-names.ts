// Full tensor names of one architecture, composed from its adapter's table (`spec.names`). The loader
// (layer-weights.ts), the validator and accounting (tensor-layout.ts), the layer manifest and the
// exporter all ask here, so no tensor name is spelled twice. No tfjs import.
import type { ModelSpec, TensorNames } from './types';

export const PROJ = ['gate', 'up', 'down'] as const;
export type Proj = (typeof PROJ)[number];

export interface WeightBias {
  weight: string;
  bias: string;
}

export interface LayerNames {
  /** `model.layers.<l>`: every tensor of the layer starts with `${prefix}.` */
  prefix: string;
  inputNorm: WeightBias;
  postNorm: WeightBias;
  attn: { q: WeightBias; k: WeightBias; v: WeightBias; o: WeightBias; qNorm: string; kNorm: string };
  /** dense MLP weights of a dense layer */
  denseMlp: Record<Proj, string>;
  /** MoE block prefix */
  moe: string;
  router: WeightBias;
  /** a routed expert's tensor; `part` is `weight` in HF checkpoints (factor parts in the workbench format) */
  expert(e: number, p: Proj, part?: string): string;
  /** the shared expert's tensor (same parts) */
  shared(p: Proj, part?: string): string;
  sharedGate: string;
}

function wb(prefix: string): WeightBias {
  return { weight: `${prefix}.weight`, bias: `${prefix}.bias` };
}

function namesOf(x: ModelSpec | TensorNames): TensorNames {
  return 'names' in x ? x.names : x;
}

export function layerNames(specOrNames: ModelSpec | TensorNames, l: number): LayerNames {
  const n = namesOf(specOrNames);
  const prefix = n.layer(l);
  const a = `${prefix}.${n.attention}`;
  const m = n.moe(l);
  const dense = n.denseMlp(l);
  const shared = `${m}.${n.sharedExpert ?? 'shared_expert'}`;
  return {
    prefix,
    inputNorm: wb(`${prefix}.${n.inputNorm}`),
    postNorm: wb(`${prefix}.${n.postNorm}`),
    attn: {
      q: wb(`${a}.${n.attnProj.q}`),
      k: wb(`${a}.${n.attnProj.k}`),
      v: wb(`${a}.${n.attnProj.v}`),
      o: wb(`${a}.${n.attnProj.o}`),
      qNorm: `${a}.${n.qkNorm.q}.weight`,
      kNorm: `${a}.${n.qkNorm.k}.weight`,
    },
    denseMlp: {
      gate: `${dense}.${n.mlpProj.gate}.weight`,
      up: `${dense}.${n.mlpProj.up}.weight`,
      down: `${dense}.${n.mlpProj.down}.weight`,
    },
    moe: m,
    router: wb(`${m}.${n.router}`),
    expert: (e, p, part = 'weight') => `${m}.${n.experts}.${e}.${n.expertProj[p]}.${part}`,
    shared: (p, part = 'weight') => `${shared}.${n.mlpProj[p]}.${part}`,
    sharedGate: `${m}.${n.sharedExpertGate ?? 'shared_expert_gate'}.weight`,
  };
}

export interface GlobalNames {
  embed: string;
  finalNorm: WeightBias;
  lmHead: WeightBias;
}

export function globalNames(specOrNames: ModelSpec | TensorNames): GlobalNames {
  const n = namesOf(specOrNames);
  return { embed: n.embed, finalNorm: wb(n.finalNorm), lmHead: wb(n.lmHead) };
}

/** The same tensor name in decoder layer `to` (Block Drop renumbering); null when `name` is not a layer-`from` tensor. */
export function renumberLayer(
  specOrNames: ModelSpec | TensorNames,
  name: string,
  from: number,
  to: number,
): string | null {
  const n = namesOf(specOrNames);
  const p = `${n.layer(from)}.`;
  return name.startsWith(p) ? `${n.layer(to)}.${name.slice(p.length)}` : null;
}
