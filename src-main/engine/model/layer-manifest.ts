// A MoE layer view as named tensors plus a JSON manifest (the workbench format's layer entry,
// docs/workbench-format.md). Any state a pipeline step leaves — experts pruned or merged (fewer
// router rows, `sources` telling which original experts each one came from), dense, factored or
// base+delta linears, a shared factor stored once — round-trips exactly. Used by the runner's
// per-(step, layer) work files and by checkpoint export and load.
import { EngineError } from '../errors';
import type { WriteDtype, WriteEntry } from '../io/safetensors-writer';
import { quantGroups } from '../methods/quant/accounting';
import { dequantize, type QuantizedWeight } from '../methods/quant/quantized-weight';
import { SLIM_PATTERNS } from '../methods/slim/accounting';
import { layerNames, PROJ, type Proj } from './tensor-names';
import type {
  ExpertWeights,
  Linear,
  ModelSpec,
  MoeLayerView,
  RoutingSpec,
  SparseTag,
  Tensor1D,
  Tensor2D,
} from './types';

export { PROJ, type Proj };

/**
 * A quantized linear: the integer codes [out, in], scales and zero points [G, out] and g_idx [in] as
 * tensors written in F32/F16 whatever the file's dtype (every value is an integer or an f16, so both
 * are exact); the weights are their dequantization, recomputed on load.
 */
export interface QuantRef {
  bits: 4 | 8;
  groupSize: number;
  symmetric: boolean;
  actOrder: boolean;
  codes: string;
  scales: string;
  zeros: string;
  gIdx: string;
}

export type LinearRef =
  /** `sparse`: the slimming tag of a dense matrix with zeros in place (types.ts SparseTag) */
  | { W: string; bias?: string; sparse?: SparseTag }
  | { quant: QuantRef; bias?: string }
  | { A: string; B: string; bias?: string }
  | { base: string; A: string; B: string };

export interface ViewManifest {
  /** routed experts, in router-row order */
  experts: Record<Proj, LinearRef>[];
  router: string;
  routerBias?: string;
  topK: number;
  /** original expert indices each routed expert came from ([e] kept, several when merged) */
  sources?: number[][];
  shared?: Record<Proj, LinearRef>;
  /** Qwen2-MoE shared-expert gate [1, h] */
  sharedGate?: string;
  /** slimming tags of the router and the shared-expert gate (types.ts SparseTag) */
  routerSparse?: SparseTag;
  sharedGateSparse?: SparseTag;
  /**
   * D²-MoE dynamic base pruning (types.ts DynamicPrune); the probe statistic g_j is a list of numbers
   * (a pruning statistic, not a weight: it is not a tensor and not counted as a parameter)
   */
  dynamicPrune?: {
    remove: number;
    score: 'wanda' | 'probe';
    alpha?: number | 'adaptive';
    calibration?: number[];
  };
}

/** HF-style tensor names of layer l: experts renumbered 0..N'-1, factors as `.factor_A` / `.factor_B`. */
export function layerTensorName(spec: ModelSpec, l: number) {
  const n = layerNames(spec, l);
  return {
    router: n.router.weight,
    routerBias: n.router.bias,
    expert: (e: number, p: Proj, part: string) => n.expert(e, p, part),
    shared: (p: Proj, part: string) => n.shared(p, part),
    sharedGate: n.sharedGate,
  };
}

/** Entries (each distinct tensor object once) and the manifest of one view. */
export function viewEntries(
  spec: ModelSpec,
  view: MoeLayerView,
  dtype: WriteDtype,
): { entries: WriteEntry[]; manifest: ViewManifest } {
  const names = layerTensorName(spec, view.layer);
  const named = new Map<object, string>();
  const entries: WriteEntry[] = [];
  const nameOf = (t: Tensor2D | Tensor1D, wanted: string) => {
    let n = named.get(t);
    if (!n) {
      n = wanted;
      named.set(t, n);
      entries.push({ name: n, dtype, shape: [...t.shape], data: () => t.dataSync() as Float32Array });
    }
    return n;
  };
  const raw = (name: string, wdtype: WriteDtype, shape: number[], data: () => Float32Array) => {
    entries.push({ name, dtype: wdtype, shape, data });
    return name;
  };
  const ref = (L: Linear, at: (part: string) => string): LinearRef => {
    if (L.kind === 'dense') {
      const r: LinearRef = { W: nameOf(L.w, at('weight')) };
      if (L.bias) r.bias = nameOf(L.bias, at('bias'));
      if (L.sparse) r.sparse = { ...L.sparse };
      return r;
    }
    if (L.kind === 'quantized') {
      const q = L.q;
      const G = quantGroups(q.inFeatures, q.groupSize);
      const r: LinearRef = {
        quant: {
          bits: q.bits,
          groupSize: q.groupSize,
          symmetric: q.symmetric,
          actOrder: q.actOrder,
          codes: raw(at('q_codes'), 'F16', [q.outFeatures, q.inFeatures], () => Float32Array.from(q.codes)),
          scales: raw(at('q_scales'), 'F16', [G, q.outFeatures], () => q.scales),
          zeros: raw(at('q_zeros'), 'F16', [G, q.outFeatures], () => Float32Array.from(q.zeros)),
          gIdx: raw(at('q_g_idx'), 'F32', [q.inFeatures], () => Float32Array.from(q.gIdx)),
        },
      };
      if (L.bias) r.bias = nameOf(L.bias, at('bias'));
      return r;
    }
    if (L.kind === 'factored') {
      const r: LinearRef = { A: nameOf(L.A, at('factor_A')), B: nameOf(L.B, at('factor_B')) };
      if (L.bias) r.bias = nameOf(L.bias, at('bias'));
      return r;
    }
    return {
      base: nameOf(L.base, at('delta_base')),
      A: nameOf(L.A, at('delta_A')),
      B: nameOf(L.B, at('delta_B')),
    };
  };
  const expert = (ex: ExpertWeights, at: (p: Proj, part: string) => string) =>
    Object.fromEntries(PROJ.map((p) => [p, ref(ex[p], (part) => at(p, part))])) as Record<Proj, LinearRef>;
  const manifest: ViewManifest = {
    router: nameOf(view.router, names.router),
    topK: view.routing.topK,
    experts: view.experts.map((ex, e) => expert(ex, (p, part) => names.expert(e, p, part))),
  };
  if (view.routerBias) manifest.routerBias = nameOf(view.routerBias, names.routerBias);
  if (view.routerSparse) manifest.routerSparse = { ...view.routerSparse };
  if (view.shared?.gateSparse) manifest.sharedGateSparse = { ...view.shared.gateSparse };
  if (view.sources) manifest.sources = view.sources.map((s) => [...s]);
  if (view.dynamicPrune) {
    const d = view.dynamicPrune;
    manifest.dynamicPrune = {
      remove: d.remove,
      score: d.score,
      ...(d.alpha !== undefined ? { alpha: d.alpha } : {}),
      // a float32 printed as the shortest double that reads back to it: exact
      ...(d.calibration ? { calibration: Array.from(d.calibration) } : {}),
    };
  }
  if (view.shared) {
    manifest.shared = expert(view.shared, (p, part) => names.shared(p, part));
    if (view.shared.gateWeight) manifest.sharedGate = nameOf(view.shared.gateWeight, names.sharedGate);
  }
  return { entries, manifest };
}

/** Every tensor name a manifest refers to. */
export function manifestTensorNames(m: ViewManifest): string[] {
  const out = new Set<string>([m.router]);
  if (m.routerBias) out.add(m.routerBias);
  const add = (r: LinearRef) => {
    for (const v of Object.values(r)) if (typeof v === 'string') out.add(v);
    if ('quant' in r) for (const k of ['codes', 'scales', 'zeros', 'gIdx'] as const) out.add(r.quant[k]);
  };
  for (const e of m.experts) for (const p of PROJ) add(e[p]);
  if (m.shared) {
    for (const p of PROJ) add(m.shared[p]);
    if (m.sharedGate) out.add(m.sharedGate);
  }
  return [...out];
}

/** Check a manifest's structure and shapes against the architecture (names the field on error). */
export function checkViewManifest(
  spec: ModelSpec,
  l: number,
  m: ViewManifest,
  shapeOf: (name: string) => readonly number[] | null,
  file: string,
  field: string,
): void {
  const fail = (msg: string, f = field): never => {
    throw new EngineError(msg, { file, field: f });
  };
  if (!m || typeof m !== 'object' || !Array.isArray(m.experts) || typeof m.router !== 'string')
    fail(`layer ${l}: the entry needs "router" (a tensor name) and "experts" (a list)`);
  const N = m.experts.length;
  if (N < 1 || N > spec.experts)
    fail(`layer ${l}: ${N} experts; allowed 1..${spec.experts}`, `${field}.experts`);
  if (!Number.isInteger(m.topK) || m.topK < 1 || m.topK > N)
    fail(`layer ${l}: topK ${JSON.stringify(m.topK)}; allowed 1..${N}`, `${field}.topK`);
  if (spec.routing.kind === 'sparsemixer' && m.topK !== spec.routing.topK)
    fail(`layer ${l}: sparsemixer routing is top-${spec.routing.topK}, got topK ${m.topK}`, `${field}.topK`);
  const h = spec.hidden;
  const shape = (name: unknown, f: string) => {
    if (typeof name !== 'string') return fail(`layer ${l}: ${f} must name a tensor`, `${field}.${f}`);
    const s = shapeOf(name);
    if (!s) return fail(`layer ${l}: tensor '${name}' (${f}) is not in the weights`, `${field}.${f}`);
    return s;
  };
  const exact = (name: unknown, want: number[], f: string) => {
    const s = shape(name, f);
    if (s.length !== want.length || s.some((d, i) => d !== want[i]))
      fail(`layer ${l}: ${f} is [${s}], expected [${want}]`, `${field}.${f}`);
  };
  const tag = (t: SparseTag | undefined, size: number, f: string) => {
    if (
      !t ||
      !SLIM_PATTERNS.includes(t.pattern) ||
      !Number.isInteger(t.pruned) ||
      t.pruned < 0 ||
      t.pruned > size
    )
      fail(
        `layer ${l}: ${f} must be { pattern: ${SLIM_PATTERNS.join(' | ')}, pruned: 0..${size} }, got ${JSON.stringify(t)}`,
        `${field}.${f}`,
      );
  };
  exact(m.router, [N, h], 'router');
  if (m.routerSparse !== undefined) tag(m.routerSparse, N * h, 'routerSparse');
  if (m.sharedGateSparse !== undefined) tag(m.sharedGateSparse, h, 'sharedGateSparse');
  if (m.routerBias !== undefined) exact(m.routerBias, [N], 'routerBias');
  const lin = (x: LinearRef, out: number, inp: number, f: string) => {
    if (!x || typeof x !== 'object') return fail(`layer ${l}: ${f} is missing`, `${field}.${f}`);
    if ('W' in x) {
      exact(x.W, [out, inp], `${f}.W`);
      if (x.bias !== undefined) exact(x.bias, [out], `${f}.bias`);
      if (x.sparse !== undefined) tag(x.sparse, out * inp, `${f}.sparse`);
      return;
    }
    if ('quant' in x) {
      const q = x.quant;
      if (!q || (q.bits !== 4 && q.bits !== 8))
        return fail(
          `layer ${l}: ${f}.quant.bits must be 4 or 8, got ${JSON.stringify(q?.bits)}`,
          `${field}.${f}.quant.bits`,
        );
      if (!(q.groupSize === -1 || (Number.isInteger(q.groupSize) && q.groupSize > 0)))
        return fail(
          `layer ${l}: ${f}.quant.groupSize must be -1 or a positive integer, got ${JSON.stringify(q.groupSize)}`,
          `${field}.${f}.quant.groupSize`,
        );
      const G = quantGroups(inp, q.groupSize);
      exact(q.codes, [out, inp], `${f}.quant.codes`);
      exact(q.scales, [G, out], `${f}.quant.scales`);
      exact(q.zeros, [G, out], `${f}.quant.zeros`);
      exact(q.gIdx, [inp], `${f}.quant.gIdx`);
      if (x.bias !== undefined) exact(x.bias, [out], `${f}.bias`);
      return;
    }
    if (!('A' in x) || !('B' in x)) return fail(`layer ${l}: ${f} needs W, or A and B`, `${field}.${f}`);
    const a = shape(x.A, `${f}.A`);
    const b = shape(x.B, `${f}.B`);
    if (a.length !== 2 || b.length !== 2 || a[0] !== out || b[1] !== inp || a[1] !== b[0])
      fail(`layer ${l}: ${f} factors [${a}]·[${b}] do not make a [${out}, ${inp}] matrix`, `${field}.${f}`);
    if ('base' in x) exact(x.base, [out, inp], `${f}.base`);
    else if (x.bias !== undefined) exact(x.bias, [out], `${f}.bias`);
  };
  const mlp = (e: Record<Proj, LinearRef> | undefined, I: number, f: string) => {
    if (!e || typeof e !== 'object') return fail(`layer ${l}: ${f} is missing`, `${field}.${f}`);
    lin(e.gate, I, h, `${f}.gate`);
    lin(e.up, I, h, `${f}.up`);
    lin(e.down, h, I, `${f}.down`);
  };
  // an expert's intermediate width may have shrunk (D²-MoE's structured base pruning removes
  // channels), never grown: read it from its down projection and check the rest against it
  const widthOf = (e: Record<Proj, LinearRef> | undefined): number => {
    const d = e?.down;
    if (!d || typeof d !== 'object') return spec.moeIntermediate;
    const s0 =
      'W' in d
        ? shapeOf(d.W)
        : 'quant' in d
          ? shapeOf(d.quant?.codes)
          : 'base' in d
            ? shapeOf(d.base)
            : 'B' in d
              ? shapeOf(d.B)
              : null;
    const w = s0 && s0.length === 2 ? s0[1]! : spec.moeIntermediate;
    return w >= 1 && w <= spec.moeIntermediate ? w : spec.moeIntermediate;
  };
  m.experts.forEach((e, i) => {
    mlp(e, widthOf(e), `experts.${i}`);
  });
  if (m.dynamicPrune !== undefined) {
    const d = m.dynamicPrune;
    const f = `${field}.dynamicPrune`;
    const I = widthOf(m.experts[0]);
    if (!d || typeof d !== 'object') fail(`layer ${l}: dynamicPrune must be an object`, f);
    if (!Number.isInteger(d.remove) || d.remove < 0 || d.remove >= I)
      fail(`layer ${l}: dynamicPrune.remove ${JSON.stringify(d.remove)}; allowed 0..${I - 1}`, `${f}.remove`);
    if (d.score !== 'wanda' && d.score !== 'probe')
      fail(`layer ${l}: dynamicPrune.score ${JSON.stringify(d.score)}; allowed wanda | probe`, `${f}.score`);
    if (
      d.alpha !== undefined &&
      d.alpha !== 'adaptive' &&
      !(typeof d.alpha === 'number' && d.alpha >= 0 && d.alpha <= 1)
    )
      fail(
        `layer ${l}: dynamicPrune.alpha ${JSON.stringify(d.alpha)}; allowed 0..1 or 'adaptive'`,
        `${f}.alpha`,
      );
    const c = d.calibration;
    if (
      d.score === 'probe' &&
      (!Array.isArray(c) || c.length !== I || c.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    )
      fail(
        `layer ${l}: dynamicPrune.calibration must list ${I} finite numbers (one per stored channel)`,
        `${f}.calibration`,
      );
  }
  if (m.shared !== undefined) {
    mlp(m.shared, spec.sharedIntermediate, 'shared');
    if (m.sharedGate !== undefined) exact(m.sharedGate, [1, h], 'sharedGate');
  } else if (m.sharedGate !== undefined)
    fail(`layer ${l}: sharedGate without a shared expert`, `${field}.sharedGate`);
  if (m.sources !== undefined) {
    const ok =
      Array.isArray(m.sources) &&
      m.sources.length === N &&
      m.sources.every(
        (s) =>
          Array.isArray(s) &&
          s.length > 0 &&
          s.every((e) => Number.isInteger(e) && e >= 0 && e < spec.experts),
      );
    if (!ok)
      fail(
        `layer ${l}: sources must list, for each of the ${N} experts, the original expert ids (0..${spec.experts - 1}) it came from`,
        `${field}.sources`,
      );
  }
}

/** The view a manifest describes; tensors with the same name become one object. */
export function viewFromManifest(
  l: number,
  m: ViewManifest,
  routing: RoutingSpec,
  read: (name: string) => Tensor2D | Tensor1D,
  /** makes the weights of a quantized linear from its dequantization (keeps this module tfjs-free) */
  make2d?: (data: Float32Array, shape: [number, number]) => Tensor2D,
): MoeLayerView {
  const memo = new Map<string, Tensor2D | Tensor1D>();
  const get = <T extends Tensor2D | Tensor1D = Tensor2D>(n: string) => {
    let t = memo.get(n);
    if (!t) {
      t = read(n);
      memo.set(n, t);
    }
    return t as T;
  };
  const values = (n: string) => {
    const t = read(n);
    try {
      return Float32Array.from(t.dataSync());
    } finally {
      t.dispose();
    }
  };
  const lin = (x: LinearRef): Linear => {
    if ('W' in x) {
      const L: Linear = x.bias
        ? { kind: 'dense', w: get(x.W), bias: get<Tensor1D>(x.bias) }
        : { kind: 'dense', w: get(x.W) };
      if (x.sparse) L.sparse = { pattern: x.sparse.pattern, pruned: x.sparse.pruned };
      return L;
    }
    if ('quant' in x) {
      const r = x.quant;
      const codes = values(r.codes);
      const inFeatures = values(r.gIdx).length;
      const q: QuantizedWeight = {
        bits: r.bits,
        groupSize: r.groupSize,
        symmetric: r.symmetric,
        actOrder: r.actOrder,
        outFeatures: codes.length / inFeatures,
        inFeatures,
        codes: Uint8Array.from(codes),
        scales: values(r.scales),
        zeros: Int32Array.from(values(r.zeros)),
        gIdx: Int32Array.from(values(r.gIdx)),
      };
      if (!make2d) throw new Error('viewFromManifest: a quantized linear needs the make2d factory');
      const w = make2d(dequantize(q), [q.outFeatures, q.inFeatures]);
      return x.bias ? { kind: 'quantized', w, q, bias: get<Tensor1D>(x.bias) } : { kind: 'quantized', w, q };
    }
    if ('base' in x) return { kind: 'delta', base: get(x.base), A: get(x.A), B: get(x.B) };
    return x.bias
      ? { kind: 'factored', A: get(x.A), B: get(x.B), bias: get<Tensor1D>(x.bias) }
      : { kind: 'factored', A: get(x.A), B: get(x.B) };
  };
  const ex = (e: Record<Proj, LinearRef>): ExpertWeights => ({
    gate: lin(e.gate),
    up: lin(e.up),
    down: lin(e.down),
  });
  const view: MoeLayerView = {
    layer: l,
    router: get(m.router),
    experts: m.experts.map(ex),
    routing: routing.kind === 'softmax-topk' ? { ...routing, topK: m.topK } : routing,
  };
  if (m.routerBias) view.routerBias = get<Tensor1D>(m.routerBias);
  if (m.routerSparse) view.routerSparse = { pattern: m.routerSparse.pattern, pruned: m.routerSparse.pruned };
  if (m.sources) view.sources = m.sources.map((s) => [...s]);
  if (m.dynamicPrune) {
    const d = m.dynamicPrune;
    view.dynamicPrune = {
      remove: d.remove,
      score: d.score,
      ...(d.alpha !== undefined ? { alpha: d.alpha } : {}),
      ...(d.calibration ? { calibration: Float32Array.from(d.calibration) } : {}),
    };
  }
  if (m.shared) {
    view.shared = ex(m.shared);
    if (m.sharedGate) view.shared.gateWeight = get<Tensor2D>(m.sharedGate);
    if (m.sharedGate && m.sharedGateSparse)
      view.shared.gateSparse = { pattern: m.sharedGateSparse.pattern, pruned: m.sharedGateSparse.pruned };
  }
  return view;
}
