// A MoE layer view as named tensors plus a JSON manifest (the workbench format's layer entry,
// docs/workbench-format.md). Any state a pipeline step leaves — experts pruned or merged (fewer
// router rows, `sources` telling which original experts each one came from), dense, factored or
// base+delta linears, a shared factor stored once — round-trips exactly. Used by the runner's
// per-(step, layer) work files and by checkpoint export and load.
import { EngineError } from '../errors';
import type { WriteDtype, WriteEntry } from '../io/safetensors-writer';
import { layerNames, PROJ, type Proj } from './tensor-names';
import type {
  ExpertWeights,
  Linear,
  ModelSpec,
  MoeLayerView,
  RoutingSpec,
  Tensor1D,
  Tensor2D,
} from './types';

export { PROJ, type Proj };

export type LinearRef =
  | { W: string; bias?: string }
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
  const ref = (L: Linear, at: (part: string) => string): LinearRef => {
    if (L.kind === 'dense') {
      const r: LinearRef = { W: nameOf(L.w, at('weight')) };
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
  if (view.sources) manifest.sources = view.sources.map((s) => [...s]);
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
    for (const v of Object.values(r)) out.add(v as string);
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
  exact(m.router, [N, h], 'router');
  if (m.routerBias !== undefined) exact(m.routerBias, [N], 'routerBias');
  const lin = (x: LinearRef, out: number, inp: number, f: string) => {
    if (!x || typeof x !== 'object') return fail(`layer ${l}: ${f} is missing`, `${field}.${f}`);
    if ('W' in x) {
      exact(x.W, [out, inp], `${f}.W`);
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
    const s0 = 'W' in d ? shapeOf(d.W) : 'base' in d ? shapeOf(d.base) : 'B' in d ? shapeOf(d.B) : null;
    const w = s0 && s0.length === 2 ? s0[1]! : spec.moeIntermediate;
    return w >= 1 && w <= spec.moeIntermediate ? w : spec.moeIntermediate;
  };
  m.experts.forEach((e, i) => {
    mlp(e, widthOf(e), `experts.${i}`);
  });
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
  const lin = (x: LinearRef): Linear => {
    if ('W' in x)
      return x.bias
        ? { kind: 'dense', w: get(x.W), bias: get<Tensor1D>(x.bias) }
        : { kind: 'dense', w: get(x.W) };
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
  if (m.sources) view.sources = m.sources.map((s) => [...s]);
  if (m.shared) {
    view.shared = ex(m.shared);
    if (m.sharedGate) view.shared.gateWeight = get<Tensor2D>(m.sharedGate);
  }
  return view;
}
