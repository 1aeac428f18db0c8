// The tensors an architecture's checkpoint must hold, with their HF shapes: one table per decoder
// layer (grouped by sub-layer) and one for the global tensors, read by the loader's validator, the
// planner's exact accounting, the memory pre-flight and the exporter. Names come from the adapter's
// table (tensor-names.ts). No tfjs import: the main process plans from shapes alone.
import { globalNames, layerNames, PROJ, type Proj } from './tensor-names';
import type { ModelSpec } from './types';

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** One decoder layer's tensors by sub-layer. */
export interface LayerTensorGroups {
  /** input norm, attention projections (+ biases), q/k norms: what Layer Drop keeps */
  attention: ExpectedTensor[];
  /** post-attention norm */
  postNorm: ExpectedTensor[];
  /** the MLP of a dense layer (empty for MoE layers) */
  denseMlp: ExpectedTensor[];
  /** router weight of a MoE layer */
  router: ExpectedTensor[];
  /** routed experts, one list per expert */
  experts: ExpectedTensor[][];
  /** shared expert(s) and the shared-expert gate */
  shared: ExpectedTensor[];
}

function mlpTensors(name: (p: Proj) => string, h: number, inter: number): ExpectedTensor[] {
  return PROJ.map((p) => ({ name: name(p), shape: p === 'down' ? [h, inter] : [inter, h] }));
}

export function layerTensorGroups(spec: ModelSpec, l: number): LayerTensorGroups {
  const n = layerNames(spec, l);
  const { heads: H, kvHeads: KV, headDim: D } = spec.attention;
  const h = spec.hidden;
  const normBias = spec.norm.kind === 'layer';
  const attention: ExpectedTensor[] = [{ name: n.inputNorm.weight, shape: [h] }];
  if (normBias) attention.push({ name: n.inputNorm.bias, shape: [h] });
  const qkv: ['q' | 'k' | 'v', number][] = [
    ['q', H * D],
    ['k', KV * D],
    ['v', KV * D],
  ];
  for (const [p, out] of qkv) {
    attention.push({ name: n.attn[p].weight, shape: [out, h] });
    if (spec.attention.qkvBias) attention.push({ name: n.attn[p].bias, shape: [out] });
  }
  attention.push({ name: n.attn.o.weight, shape: [h, H * D] });
  if (spec.attention.oBias) attention.push({ name: n.attn.o.bias, shape: [h] });
  if (spec.attention.qkNorm === 'full') {
    attention.push({ name: n.attn.qNorm, shape: [H * D] }, { name: n.attn.kNorm, shape: [KV * D] });
  } else if (spec.attention.qkNorm === 'per-head') {
    attention.push({ name: n.attn.qNorm, shape: [D] }, { name: n.attn.kNorm, shape: [D] });
  }
  const postNorm: ExpectedTensor[] = [{ name: n.postNorm.weight, shape: [h] }];
  if (normBias) postNorm.push({ name: n.postNorm.bias, shape: [h] });
  const g: LayerTensorGroups = { attention, postNorm, denseMlp: [], router: [], experts: [], shared: [] };
  if (spec.layerKinds[l] === 'dense') {
    g.denseMlp = mlpTensors((p) => n.denseMlp[p], h, spec.intermediate);
    return g;
  }
  g.router = [{ name: n.router.weight, shape: [spec.experts, h] }];
  g.experts = Array.from({ length: spec.experts }, (_, e) =>
    mlpTensors((p) => n.expert(e, p), h, spec.moeIntermediate),
  );
  if (hasSharedExpert(spec)) {
    g.shared = mlpTensors((p) => n.shared(p), h, spec.sharedIntermediate);
    if (hasSharedGate(spec)) g.shared.push({ name: n.sharedGate, shape: [1, h] });
  }
  return g;
}

/** The architecture stores a shared expert in its MoE layers. */
export function hasSharedExpert(spec: ModelSpec): boolean {
  return spec.sharedIntermediate > 0 && spec.names.sharedExpert !== undefined;
}

/** ... scaled by a sigmoid gate (Qwen2-MoE). */
export function hasSharedGate(spec: ModelSpec): boolean {
  return hasSharedExpert(spec) && spec.sharedGate && spec.names.sharedExpertGate !== undefined;
}

/** The feed-forward sub-layer's tensors (post norm excluded): dense MLP, or router + experts + shared. */
export function ffnTensors(g: LayerTensorGroups): ExpectedTensor[] {
  return [...g.denseMlp, ...g.router, ...g.experts.flat(), ...g.shared];
}

/** Every tensor one decoder layer needs, with its HF shape. */
export function layerTensors(spec: ModelSpec, l: number): ExpectedTensor[] {
  const g = layerTensorGroups(spec, l);
  return [...g.attention, ...g.postNorm, ...ffnTensors(g)];
}

export function globalTensors(spec: ModelSpec): ExpectedTensor[] {
  const n = globalNames(spec);
  const out: ExpectedTensor[] = [
    { name: n.embed, shape: [spec.vocab, spec.hidden] },
    { name: n.finalNorm.weight, shape: [spec.hidden] },
  ];
  if (spec.norm.kind === 'layer') out.push({ name: n.finalNorm.bias, shape: [spec.hidden] });
  if (!spec.tieEmbeddings) out.push({ name: n.lmHead.weight, shape: [spec.vocab, spec.hidden] });
  if (spec.lmHeadBias) out.push({ name: n.lmHead.bias, shape: [spec.vocab] });
  return out;
}
