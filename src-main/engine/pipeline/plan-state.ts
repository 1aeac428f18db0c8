// Shape-level model state for planning and exact accounting (METHODS §2.1, §6). Built from the
// architecture's tensor list (no tensor data), or from a layer's current view while a run goes on;
// both count every stored tensor once, so params(state) equals what `moe-bench inspect` counts on
// the exported checkpoint. Methods' knobs transform this state (methods/method.ts KnobSpec.apply).
import { SAFETENSORS_DTYPES, type SafetensorsDtype } from '../io/safetensors-header';
import { quantMatrixBytes } from '../methods/quant/accounting';
import { sparseIndexBytes } from '../methods/slim/accounting';
import { globalTensors, layerTensorGroups } from '../model/tensor-layout';
import type { LayerOverride, Linear, ModelSpec, MoeLayerView, SparseTag } from '../model/types';

export type ExpertForm = 'dense' | 'factored' | 'delta' | 'mixed';

export interface LayerPlanState {
  layer: number;
  kind: 'moe' | 'dense';
  /** Block Drop removed the whole decoder block */
  blockDropped: boolean;
  /** Layer Drop removed the MoE sub-layer and its post-attention norm */
  ffnDropped: boolean;
  /** attention projections, their biases and q/k norms, plus the input norm */
  attention: number;
  postNorm: number;
  /** dense MLP of a dense layer */
  denseMlp: number;
  /** shared expert(s) and the shared-expert gate */
  shared: number;
  /** routed experts present */
  experts: number;
  topK: number;
  /** fewest routed experts the router can work with (1; 2 for Phi-3.5's top-2 sparsemixer) */
  minExperts: number;
  /** router params per routed expert (one row of h, plus a bias entry when the router has one) */
  routerRow: number;
  /** params of all routed experts of the layer in their current form, each stored tensor once */
  expertParams: number;
  /**
   * the part of expertParams in tensors several routed experts hold as one object (MoE-SVD's shared
   * V and kept U's, D²-MoE's base, ShareV/MergeU factors): planning assumes it stays when experts
   * leave (a shared tensor keeps a holder); absent = 0
   */
  sharedExpertParams?: number;
  form: ExpertForm;
  /** rank of the factored expert matrices (null when dense) */
  rank: number | null;
  /**
   * Parts whose weights are not stored as every entry in the export dtype (slimmed or quantized by an
   * S/Q step); absent = all dense. Bytes of a part = values·bytesPerParam + extraBytes.
   */
  storage?: LayerStorage;
}

/** Plan-state field a matrix's params are counted in (S/Q targets). */
export type WeightPart = 'experts' | 'shared' | 'router';

export interface PartStorage {
  /** params of the part when this summary was made (a later change of the part rescales it) */
  params: number;
  /** entries stored in the export dtype (kept values of sparse matrices, every untouched tensor) */
  values: number;
  /** sparse indices, and quantized matrices in the GPTQ layout (packed codes, zeros, scales, g_idx) */
  extraBytes: number;
  /** entries a slimming step set to zero */
  zeros: number;
}
export type LayerStorage = Partial<Record<WeightPart, PartStorage>>;

export interface ModelPlanState {
  hidden: number;
  /** routed-expert intermediate width */
  intermediate: number;
  /** embeddings, final norm, lm_head */
  globalParams: number;
  /** bytes per stored parameter of the export dtype */
  bytesPerParam: number;
  /** the router is an nn.Linear (false: DeepSeek's MoEGate, which the reference never slims); absent = true */
  routerLinear?: boolean;
  layers: LayerPlanState[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Whether the router is an nn.Linear: every architecture but DeepSeek (its MoEGate holds a bare parameter). */
export function routerIsLinear(spec: ModelSpec): boolean {
  return spec.modelType !== 'deepseek';
}

/** The state of an unmodified checkpoint, from its architecture's tensor shapes. */
export function stateFromSpec(spec: ModelSpec, bytesPerParam = 4): ModelPlanState {
  const sum = (ts: readonly { shape: readonly number[] }[]) => ts.reduce((a, t) => a + size(t.shape), 0);
  const layers = Array.from({ length: spec.layers }, (_, l): LayerPlanState => {
    const g = layerTensorGroups(spec, l);
    const kind = spec.layerKinds[l]!;
    return {
      layer: l,
      kind,
      blockDropped: false,
      ffnDropped: false,
      attention: sum(g.attention),
      postNorm: sum(g.postNorm),
      denseMlp: sum(g.denseMlp),
      shared: sum(g.shared),
      experts: kind === 'moe' ? spec.experts : 0,
      topK: kind === 'moe' ? spec.routing.topK : 0,
      minExperts: spec.routing.kind === 'sparsemixer' ? 2 : 1,
      routerRow: kind === 'moe' && spec.experts > 0 ? sum(g.router) / spec.experts : 0,
      expertParams: sum(g.experts.flat()),
      form: 'dense',
      rank: null,
    };
  });
  const globalParams = globalTensors(spec).reduce((a, t) => a + size(t.shape), 0);
  return {
    hidden: spec.hidden,
    intermediate: spec.moeIntermediate,
    globalParams,
    bytesPerParam,
    ...(routerIsLinear(spec) ? {} : { routerLinear: false }),
    layers,
  };
}

export function layerParams(s: LayerPlanState): number {
  if (s.blockDropped) return 0;
  if (s.ffnDropped) return s.attention;
  return s.attention + s.postNorm + s.denseMlp + s.shared + s.experts * s.routerRow + s.expertParams;
}

export function stateParams(s: ModelPlanState): number {
  return s.layers.reduce((a, l) => a + layerParams(l), s.globalParams);
}

/** Params of a plan-state part of one layer. */
export function partParams(l: LayerPlanState, part: WeightPart): number {
  return part === 'experts' ? l.expertParams : part === 'shared' ? l.shared : l.experts * l.routerRow;
}

/**
 * A part's storage scaled to its current params: experts removed after slimming/quantization leave
 * their share (every expert of a part is stored alike); a factored part is stored densely again.
 */
function partStorage(l: LayerPlanState, part: WeightPart): PartStorage | null {
  const st = l.storage?.[part];
  if (!st || st.params === 0) return null;
  if (part === 'experts' && l.form !== 'dense') return null;
  const p = partParams(l, part);
  if (p === st.params) return st;
  const f = p / st.params;
  return { params: p, values: st.values * f, extraBytes: st.extraBytes * f, zeros: st.zeros * f };
}

const live = (l: LayerPlanState) => !l.blockDropped && !l.ffnDropped;

/** Bytes of one layer's weights as exported (S/Q storage included). */
export function layerWeightBytes(l: LayerPlanState, bytesPerParam: number): number {
  let b = layerParams(l) * bytesPerParam;
  if (!live(l)) return b;
  for (const part of ['experts', 'shared', 'router'] as const) {
    const st = partStorage(l, part);
    if (st) b += st.values * bytesPerParam + st.extraBytes - st.params * bytesPerParam;
  }
  return b;
}

export function stateWeightBytes(s: ModelPlanState): number {
  return s.layers.reduce(
    (a, l) => a + layerWeightBytes(l, s.bytesPerParam),
    s.globalParams * s.bytesPerParam,
  );
}

/** Params minus the entries slimming set to zero. */
export function stateNonzeros(s: ModelPlanState): number {
  let z = 0;
  for (const l of s.layers) {
    if (!live(l)) continue;
    for (const part of ['experts', 'shared', 'router'] as const) z += partStorage(l, part)?.zeros ?? 0;
  }
  return Math.round(stateParams(s) - z);
}

/** Routed-expert params of the layers still holding experts, and their count (global, §2.2). */
export function routedExperts(s: ModelPlanState): { experts: number; params: number } {
  let experts = 0;
  let params = 0;
  for (const l of s.layers) {
    if (l.kind !== 'moe' || l.blockDropped || l.ffnDropped) continue;
    experts += l.experts;
    params += l.expertParams;
  }
  return { experts, params };
}

/** Layers that still run a routed MoE block. */
export function liveMoeLayers(s: ModelPlanState): LayerPlanState[] {
  return s.layers.filter((l) => l.kind === 'moe' && !l.blockDropped && !l.ffnDropped && l.experts > 0);
}

/**
 * One layer with `kept` of its routed experts left (pruned or merged away): each leaves its share of
 * the layer's expert params and its router row; top-k becomes min(top-k, kept).
 */
export function withExpertCount(l: LayerPlanState, kept: number): LayerPlanState {
  if (kept === l.experts) return l;
  const shared = kept > 0 ? (l.sharedExpertParams ?? 0) : 0;
  const per = l.experts > 0 ? (l.expertParams - (l.sharedExpertParams ?? 0)) / l.experts : 0;
  return {
    ...l,
    experts: kept,
    expertParams: shared + Math.round(per * kept),
    sharedExpertParams: shared,
    topK: Math.min(l.topK, kept),
  };
}

export function withLayers(s: ModelPlanState, f: (l: LayerPlanState) => LayerPlanState): ModelPlanState {
  return { ...s, layers: s.layers.map((l) => f({ ...l })) };
}

function linearTensors(L: Linear): { size: number }[] {
  const t: { size: number }[] =
    L.kind === 'dense' || L.kind === 'quantized'
      ? [L.w]
      : L.kind === 'factored'
        ? [L.A, L.B]
        : [L.base, L.A, L.B];
  if ('bias' in L && L.bias) t.push(L.bias);
  return t;
}

/** Params of the routed-expert tensors that two or more experts of the view hold as the same object. */
export function viewSharedExpertParams(view: MoeLayerView): number {
  if (view.experts.length < 2) return 0;
  const holders = new Map<object, { size: number; n: number }>();
  for (const e of view.experts) {
    const mine = new Set<{ size: number }>();
    for (const L of [e.gate, e.up, e.down]) for (const t of linearTensors(L)) mine.add(t);
    for (const t of mine) {
      const h = holders.get(t) ?? { size: t.size, n: 0 };
      h.n++;
      holders.set(t, h);
    }
  }
  let n = 0;
  for (const h of holders.values()) if (h.n >= 2) n += h.size;
  return n;
}

/** Routed-expert params of a view, each distinct tensor object once (a shared factor once). */
export function viewExpertParams(view: MoeLayerView): number {
  const seen = new Set<object>();
  let n = 0;
  for (const e of view.experts)
    for (const L of [e.gate, e.up, e.down])
      for (const t of linearTensors(L))
        if (!seen.has(t)) {
          seen.add(t);
          n += t.size;
        }
  return n;
}

/**
 * Storage of a set of linears (and bare tensors with their slimming tags), each tensor once; null
 * when all are plain dense.
 */
function storageOf(
  lins: readonly Linear[],
  bare: readonly { t: { size: number }; sparse?: SparseTag | undefined }[],
): PartStorage | null {
  const seen = new Set<object>();
  let params = 0;
  let values = 0;
  let extraBytes = 0;
  let zeros = 0;
  let special = false;
  const sparse = (t: { size: number; shape?: readonly number[] }, tag: SparseTag | undefined) => {
    if (!tag || tag.pruned === 0) {
      values += t.size;
      return;
    }
    special = true;
    const [rows, cols] = t.shape as [number, number];
    const kept = t.size - tag.pruned;
    values += kept;
    zeros += tag.pruned;
    extraBytes += sparseIndexBytes(rows, cols, kept, tag.pattern);
  };
  for (const L of lins)
    for (const t of linearTensors(L)) {
      if (seen.has(t)) continue;
      seen.add(t);
      params += t.size;
      if (L.kind === 'quantized' && t === L.w) {
        special = true;
        extraBytes += quantMatrixBytes(L.q.outFeatures, L.q.inFeatures, L.q.bits, L.q.groupSize);
      } else if (L.kind === 'dense' && t === L.w) sparse(L.w, L.sparse);
      else values += t.size;
    }
  for (const b of bare) {
    if (seen.has(b.t)) continue;
    seen.add(b.t);
    params += b.t.size;
    sparse(b.t, b.sparse);
  }
  return special ? { params, values, extraBytes, zeros } : null;
}

function viewStorage(v: MoeLayerView): LayerStorage | undefined {
  const out: LayerStorage = {};
  const experts = storageOf(
    v.experts.flatMap((e) => [e.gate, e.up, e.down]),
    [],
  );
  if (experts) out.experts = experts;
  if (v.shared) {
    const sh = storageOf(
      [v.shared.gate, v.shared.up, v.shared.down],
      v.shared.gateWeight ? [{ t: v.shared.gateWeight, sparse: v.shared.gateSparse }] : [],
    );
    if (sh) out.shared = sh;
  }
  const router = storageOf(
    [],
    [{ t: v.router, sparse: v.routerSparse }, ...(v.routerBias ? [{ t: v.routerBias }] : [])],
  );
  if (router) out.router = router;
  return Object.keys(out).length > 0 ? out : undefined;
}

function viewForm(view: MoeLayerView): { form: ExpertForm; rank: number | null } {
  // quantized and slimmed matrices are dense for every structural purpose (storage says the rest)
  const kinds = new Set(
    view.experts.flatMap((e) =>
      [e.gate, e.up, e.down].map((L) => (L.kind === 'quantized' ? 'dense' : L.kind)),
    ),
  );
  if (kinds.size === 0) return { form: 'dense', rank: null };
  if (kinds.size > 1) return { form: 'mixed', rank: null };
  const k = [...kinds][0]!;
  const g = view.experts[0]!.gate;
  return { form: k, rank: g.kind === 'factored' || g.kind === 'delta' ? g.A.shape[1] : null };
}

/** The exact state of layer l given its override (unchanged layers keep their spec state). */
export function layerStateOf(base: LayerPlanState, override: LayerOverride | undefined): LayerPlanState {
  if (!override) return base;
  if (override.skipBlock) return { ...base, blockDropped: true };
  if (override.skipFfn) return { ...base, ffnDropped: true };
  const v = override.moe;
  if (!v) return base;
  const sharedTensors: { size: number }[] = v.shared
    ? [
        ...linearTensors(v.shared.gate),
        ...linearTensors(v.shared.up),
        ...linearTensors(v.shared.down),
        ...(v.shared.gateWeight ? [v.shared.gateWeight] : []),
      ]
    : [];
  const { form, rank } = viewForm(v);
  const storage = viewStorage(v);
  const { storage: _old, ...rest } = base;
  return {
    ...rest,
    ...(storage ? { storage } : {}),
    experts: v.experts.length,
    topK: v.routing.topK,
    routerRow: v.experts.length > 0 ? (v.router.size + (v.routerBias?.size ?? 0)) / v.experts.length : 0,
    expertParams: viewExpertParams(v),
    sharedExpertParams: viewSharedExpertParams(v),
    shared: [...new Set(sharedTensors)].reduce((a, t) => a + t.size, 0),
    form,
    rank,
  };
}

export function stateWithOverrides(
  base: ModelPlanState,
  overrides: ReadonlyMap<number, LayerOverride>,
): ModelPlanState {
  return { ...base, layers: base.layers.map((l) => layerStateOf(l, overrides.get(l.layer))) };
}

/** Bytes per stored parameter of a safetensors dtype name. */
export function dtypeBytes(dtype: string): number {
  return SAFETENSORS_DTYPES[dtype as SafetensorsDtype] ?? 4;
}
