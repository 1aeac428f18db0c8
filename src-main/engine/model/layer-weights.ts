// Loading one decoder layer: executable (pre-transposed) weights for the executor, and the HF-layout
// MoE view for compression methods. Both are owned by the caller and freed with the dispose helpers.
import { EngineError } from '../errors';
import { dequantize } from '../methods/quant/quantized-weight';
import { tf } from '../tensor/backend';
import type { AttentionWeights } from './blocks/attention';
import { buildExecDynamic } from './blocks/dynamic-prune';
import type { ExecExpert } from './blocks/gated-mlp';
import { type ExecLinear, execLinearTensors, toExecLinear } from './blocks/linear';
import type { ExecMoe, ExpertLease } from './blocks/moe-block';
import { routedExpertBytes } from './expert-budget';
import { readQuantized } from './gptq-checkpoint';
import type { LoadedModel } from './model';
import { hasSharedExpert, hasSharedGate } from './tensor-layout';
import { layerNames, type Proj, type WeightBias } from './tensor-names';
import type { ExpertWeights, LayerOverride, Linear, MoeLayerView, Tensor1D, Tensor2D } from './types';

export interface NormWeights {
  weight: Tensor1D;
  bias?: Tensor1D;
}

export interface ExecLayer {
  inputNorm: NormWeights;
  /** absent when Layer Drop removed the MoE sub-layer */
  postNorm?: NormWeights;
  attn: AttentionWeights;
  ffn: { kind: 'dense'; mlp: ExecExpert } | { kind: 'moe'; moe: ExecMoe } | { kind: 'none' };
  /** Every tensor this layer owns (freed by disposeExecLayer). */
  owned: tf.Tensor[];
}

function reader(model: LoadedModel, owned: tf.Tensor[]) {
  const ck = model.checkpoint;
  const take = <T extends tf.Tensor>(t: tf.Tensor) => {
    owned.push(t);
    return t as T;
  };
  return {
    vec: (name: string) => take<Tensor1D>(ck.readTensor(name)),
    /** HF [out, in] read as [in, out]. */
    wT: (name: string) => take<Tensor2D>(ck.readTensor(name, { transpose: true })),
  };
}

function norm(r: ReturnType<typeof reader>, n: WeightBias, withBias: boolean): NormWeights {
  const weight = r.vec(n.weight);
  return withBias ? { weight, bias: r.vec(n.bias) } : { weight };
}

function execMlp(r: ReturnType<typeof reader>, name: (p: Proj) => string): ExecExpert {
  const lin = (p: Proj): ExecLinear => ({ kind: 'dense', wT: r.wT(name(p)) });
  return { gate: lin('gate'), up: lin('up'), down: lin('down') };
}

export interface LoadLayerOptions {
  /**
   * Routed experts above this many f32 bytes are not loaded with the layer: the MoE block reads
   * each one after routing and frees it (ExecMoe.stream). Default: always resident.
   */
  expertBudgetBytes?: number;
}

export function loadExecLayer(
  model: LoadedModel,
  l: number,
  override?: LayerOverride,
  opts: LoadLayerOptions = {},
): ExecLayer {
  const owned: tf.Tensor[] = [];
  try {
    return buildExecLayer(model, l, override, owned, opts);
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}

function buildExecLayer(
  model: LoadedModel,
  l: number,
  override: LayerOverride | undefined,
  owned: tf.Tensor[],
  opts: LoadLayerOptions,
): ExecLayer {
  const { spec } = model;
  const n = layerNames(spec, l);
  const r = reader(model, owned);
  const withBias = spec.norm.kind === 'layer';
  const attn: AttentionWeights = {
    qT: r.wT(n.attn.q.weight),
    kT: r.wT(n.attn.k.weight),
    vT: r.wT(n.attn.v.weight),
    oT: r.wT(n.attn.o.weight),
  };
  if (spec.attention.qkvBias) {
    attn.qBias = r.vec(n.attn.q.bias);
    attn.kBias = r.vec(n.attn.k.bias);
    attn.vBias = r.vec(n.attn.v.bias);
  }
  if (spec.attention.oBias) attn.oBias = r.vec(n.attn.o.bias);
  if (spec.attention.qkNorm !== 'none') {
    attn.qNorm = r.vec(n.attn.qNorm);
    attn.kNorm = r.vec(n.attn.kNorm);
  }
  const layer: ExecLayer = {
    inputNorm: norm(r, n.inputNorm, withBias),
    attn,
    ffn: { kind: 'none' },
    owned,
  };
  // Layer Drop removes the post-attention norm with the MoE block (a workbench checkpoint lacks both)
  if (override?.skipFfn) return layer;
  layer.postNorm = norm(r, n.postNorm, withBias);
  if (override?.moe) {
    const moe = moeViewToExec(override.moe);
    owned.push(...moe.owned);
    layer.ffn = { kind: 'moe', moe: moe.exec };
  } else if (spec.layerKinds[l] === 'dense') {
    layer.ffn = { kind: 'dense', mlp: execMlp(r, (p) => n.denseMlp[p]) };
  } else {
    const streamed = routedExpertBytes(model, l) > (opts.expertBudgetBytes ?? Number.POSITIVE_INFINITY);
    const experts = streamed
      ? []
      : Array.from({ length: spec.experts }, (_, e) => execMlp(r, (p) => n.expert(e, p)));
    const moe: ExecMoe = { routerT: r.wT(n.router.weight), experts, routing: spec.routing };
    // the same reads as the resident path, so a streamed layer computes bit-identical outputs
    if (streamed)
      moe.stream = { count: spec.experts, load: (e) => streamedExpert(model, (p) => n.expert(e, p)) };
    if (hasSharedExpert(spec)) {
      const sh = execMlp(r, (p) => n.shared(p));
      moe.shared = hasSharedGate(spec) ? { ...sh, gateT: r.wT(n.sharedGate) } : sh;
    }
    layer.ffn = { kind: 'moe', moe };
  }
  return layer;
}

function streamedExpert(model: LoadedModel, name: (p: Proj) => string): ExpertLease {
  const owned: tf.Tensor[] = [];
  try {
    return { expert: execMlp(reader(model, owned), name), owned };
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}

export function disposeExecLayer(layer: ExecLayer): void {
  tf.dispose(layer.owned);
  layer.owned.length = 0;
}

/** Executable form of a view; `owned` are the transposes made here (the view's tensors stay the caller's). */
export function moeViewToExec(view: MoeLayerView): { exec: ExecMoe; owned: tf.Tensor[] } {
  checkMoeView(view);
  const memo = new Map<tf.Tensor, Tensor2D>();
  const ex = (w: ExpertWeights): ExecExpert => ({
    gate: toExecLinear(w.gate, memo),
    up: toExecLinear(w.up, memo),
    down: toExecLinear(w.down, memo),
  });
  const exec: ExecMoe = {
    routerT: tf.transpose(view.router) as Tensor2D,
    experts: view.experts.map(ex),
    routing: view.routing,
  };
  if (view.routerBias) exec.routerBias = view.routerBias;
  if (view.dynamicPrune)
    exec.dynamic = buildExecDynamic(
      view.dynamicPrune,
      view.experts.map((e) => e.down),
      view.layer,
    );
  if (view.shared) {
    const s = ex(view.shared);
    exec.shared = view.shared.gateWeight
      ? { ...s, gateT: tf.transpose(view.shared.gateWeight) as Tensor2D }
      : s;
  }
  const owned: tf.Tensor[] = [exec.routerT, ...memo.values()];
  if (exec.shared?.gateT) owned.push(exec.shared.gateT);
  return { exec, owned };
}

function linearShape(L: Linear): [number, number] {
  if (L.kind === 'dense' || L.kind === 'quantized') return L.w.shape;
  if (L.kind === 'delta') return L.base.shape;
  return [L.A.shape[0], L.B.shape[1]];
}

/** A replacement view must be self-consistent: one router row per expert, matching widths. */
export function checkMoeView(view: MoeLayerView): void {
  const where = { field: `layer ${view.layer} override` };
  const [N, h] = view.router.shape;
  if (N !== view.experts.length) {
    throw new EngineError(`router has ${N} rows but ${view.experts.length} experts are given`, where);
  }
  if (view.routing.topK > N)
    throw new EngineError(
      `top-${view.routing.topK} routing needs at least that many experts, got ${N}`,
      where,
    );
  const all = view.shared ? [...view.experts, view.shared] : view.experts;
  all.forEach((e, i) => {
    const name = e === view.shared ? 'shared expert' : `expert ${i}`;
    const [gi, gh] = linearShape(e.gate);
    const [ui, uh] = linearShape(e.up);
    const [dh, di] = linearShape(e.down);
    if (gh !== h || uh !== h || dh !== h || gi !== ui || di !== gi) {
      throw new EngineError(
        `${name}: gate [${gi},${gh}], up [${ui},${uh}], down [${dh},${di}] do not fit hidden ${h}`,
        where,
      );
    }
    for (const L of [e.gate, e.up, e.down]) {
      if ((L.kind === 'factored' || L.kind === 'delta') && L.A.shape[1] !== L.B.shape[0]) {
        throw new EngineError(`${name}: factor ranks differ (A [${L.A.shape}], B [${L.B.shape}])`, where);
      }
    }
  });
}

function moeReaders(model: LoadedModel, l: number) {
  const { spec, checkpoint: ck } = model;
  if (spec.layerKinds[l] !== 'moe') throw new RangeError(`layer ${l} is a dense layer, not MoE`);
  const n = layerNames(spec, l);
  const mat = (name: string) => ck.readTensor(name) as Tensor2D;
  // a GPTQ checkpoint's packed linear comes back with its integer form (w = its dequantization)
  const lin = (name: string): Linear => {
    const prefix = name.slice(0, -'.weight'.length);
    const gq = model.gptq?.linears.get(prefix);
    if (!gq) return { kind: 'dense', w: mat(name) };
    const q = readQuantized(ck, prefix, gq);
    return { kind: 'quantized', w: tf.tensor2d(dequantize(q), [q.outFeatures, q.inFeatures]), q };
  };
  const mlp = (name: (p: Proj) => string): ExpertWeights => {
    const read: Linear[] = [];
    try {
      for (const p of ['gate', 'up', 'down'] as const) read.push(lin(name(p)));
    } catch (e) {
      tf.dispose(read.map((L) => (L as { w: tf.Tensor }).w));
      throw e;
    }
    return { gate: read[0]!, up: read[1]!, down: read[2]! };
  };
  return { n, mat, mlp };
}

/**
 * Routed expert e of layer l as stored in the checkpoint, decoded to f32 in HF layout (caller
 * disposes its three tensors): what an expert-by-expert method reads instead of the whole layer.
 */
export function readExpert(model: LoadedModel, l: number, e: number): ExpertWeights {
  if (!Number.isInteger(e) || e < 0 || e >= model.spec.experts)
    throw new RangeError(`expert ${e} is outside 0..${model.spec.experts - 1}`);
  const { n, mlp } = moeReaders(model, l);
  return mlp((p) => n.expert(e, p));
}

/** Layer l's MoE view without its routed experts (router, shared expert): `experts` is empty. */
export function readMoeShell(model: LoadedModel, l: number): MoeLayerView {
  const { spec } = model;
  const { n, mat, mlp } = moeReaders(model, l);
  const view: MoeLayerView = { layer: l, router: mat(n.router.weight), experts: [], routing: spec.routing };
  if (hasSharedExpert(spec)) {
    try {
      const s = mlp((p) => n.shared(p));
      view.shared = hasSharedGate(spec) ? { ...s, gateWeight: mat(n.sharedGate) } : s;
    } catch (e) {
      disposeMoeView(view);
      throw e;
    }
  }
  return view;
}

/** The HF-layout MoE view of layer l as stored in the checkpoint (caller disposes with disposeMoeView). */
export function readMoeView(model: LoadedModel, l: number): MoeLayerView {
  const view = readMoeShell(model, l);
  try {
    for (let e = 0; e < model.spec.experts; e++) view.experts.push(readExpert(model, l, e));
  } catch (err) {
    disposeMoeView(view);
    throw err;
  }
  return view;
}

function linearTensors(L: Linear): tf.Tensor[] {
  const t: tf.Tensor[] =
    L.kind === 'dense' || L.kind === 'quantized'
      ? [L.w]
      : L.kind === 'factored'
        ? [L.A, L.B]
        : [L.base, L.A, L.B];
  if ('bias' in L && L.bias) t.push(L.bias);
  return t;
}

/** Every tensor of a view, each once (a shared factor once). */
export function moeViewTensors(view: MoeLayerView): Set<tf.Tensor> {
  const all = new Set<tf.Tensor>([view.router]);
  if (view.routerBias) all.add(view.routerBias);
  for (const e of [...view.experts, ...(view.shared ? [view.shared] : [])]) {
    for (const L of [e.gate, e.up, e.down]) for (const t of linearTensors(L)) all.add(t);
  }
  if (view.shared?.gateWeight) all.add(view.shared.gateWeight);
  return all;
}

/** Dispose every tensor of a view once (shared factors are freed once). */
export function disposeMoeView(view: MoeLayerView): void {
  const all = moeViewTensors(view);
  tf.dispose([...all]);
}

export { execLinearTensors };
