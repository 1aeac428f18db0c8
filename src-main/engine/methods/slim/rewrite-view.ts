// A MoE view with the matrices an S/Q step touches replaced, everything else cloned (the result owns
// every tensor). Touched: each routed expert's gate/up/down; the shared expert's when asked; the router
// (and Qwen's shared-expert gate) when asked and the router is a linear (weight-targets.ts).
import type { ExpertWeights, Linear, MoeLayerView, SparseTag, Tensor2D } from '../../model/types';
import { tf } from '../../tensor/backend';
import type { QuantizedWeight } from '../quant/quantized-weight';
import type { LayerInputs, MatrixInputs } from './layer-inputs';

export type MatrixName = 'gate' | 'up' | 'down' | 'router' | 'sharedGate';

export interface TargetMatrix {
  part: 'experts' | 'shared' | 'router';
  /** routed expert index (experts part), else null */
  expert: number | null;
  name: MatrixName;
  /** [rows = out, cols = in] row-major f32 (a copy) */
  W: Float32Array;
  rows: number;
  cols: number;
  /** its calibration inputs (null when the step collects none) */
  inputs: MatrixInputs | null;
}

export interface NewMatrix {
  w: Float32Array;
  sparse?: SparseTag;
  q?: QuantizedWeight;
}

const PROJ = ['gate', 'up', 'down'] as const;

function weightOf(L: Linear): Tensor2D {
  if (L.kind === 'dense' || L.kind === 'quantized') return L.w;
  throw new Error(`slimming/quantization needs dense expert matrices, got a ${L.kind} linear`);
}

export function rewriteView(
  view: MoeLayerView,
  o: { shared: boolean; router: boolean },
  inputs: LayerInputs | null,
  f: (m: TargetMatrix) => NewMatrix,
): MoeLayerView {
  const matrix = (t: Tensor2D, m: Omit<TargetMatrix, 'W' | 'rows' | 'cols'>) => {
    const [rows, cols] = t.shape;
    return f({ ...m, W: Float32Array.from(t.dataSync()), rows, cols });
  };
  const linear = (L: Linear, nm: NewMatrix): Linear => {
    const w = tf.tensor2d(nm.w, weightOf(L).shape);
    const bias = 'bias' in L && L.bias ? tf.clone(L.bias) : undefined;
    const out: Linear = nm.q ? { kind: 'quantized', w, q: nm.q } : { kind: 'dense', w };
    if (nm.sparse && out.kind === 'dense') out.sparse = nm.sparse;
    if (bias) out.bias = bias;
    return out;
  };
  const mlp = (
    ex: ExpertWeights,
    part: 'experts' | 'shared',
    e: number | null,
    inp: { input: MatrixInputs; inter: MatrixInputs } | null,
  ) => {
    const out = {} as ExpertWeights;
    for (const p of PROJ) {
      const L = ex[p];
      const nm = matrix(weightOf(L), {
        part,
        expert: e,
        name: p,
        inputs: inp ? (p === 'down' ? inp.inter : inp.input) : null,
      });
      out[p] = linear(L, nm);
    }
    return out;
  };
  const cloneLinear = (L: Linear): Linear => {
    switch (L.kind) {
      case 'dense':
      case 'quantized':
        return L.bias ? { ...L, w: tf.clone(L.w), bias: tf.clone(L.bias) } : { ...L, w: tf.clone(L.w) };
      case 'factored':
        return L.bias
          ? { kind: 'factored', A: tf.clone(L.A), B: tf.clone(L.B), bias: tf.clone(L.bias) }
          : { kind: 'factored', A: tf.clone(L.A), B: tf.clone(L.B) };
      case 'delta':
        return { kind: 'delta', base: tf.clone(L.base), A: tf.clone(L.A), B: tf.clone(L.B) };
    }
  };
  const experts = view.experts.map((ex, e) => mlp(ex, 'experts', e, inputs ? inputs.experts[e]! : null));
  const out: MoeLayerView = {
    layer: view.layer,
    router: tf.clone(view.router),
    experts,
    routing: view.routing,
  };
  if (o.router) {
    out.router.dispose();
    const nm = matrix(view.router, {
      part: 'router',
      expert: null,
      name: 'router',
      inputs: inputs?.router ?? null,
    });
    out.router = tf.tensor2d(nm.w, view.router.shape);
    if (nm.sparse) out.routerSparse = nm.sparse;
  }
  if (view.routerBias) out.routerBias = tf.clone(view.routerBias);
  if (view.sources) out.sources = view.sources.map((s) => [...s]);
  if (view.shared) {
    const s = view.shared;
    out.shared = o.shared
      ? mlp(s, 'shared', null, inputs?.shared ?? null)
      : { gate: cloneLinear(s.gate), up: cloneLinear(s.up), down: cloneLinear(s.down) };
    if (s.gateWeight) {
      if (o.router) {
        const nm = matrix(s.gateWeight, {
          part: 'shared',
          expert: null,
          name: 'sharedGate',
          inputs: inputs?.router ?? null,
        });
        out.shared.gateWeight = tf.tensor2d(nm.w, s.gateWeight.shape);
        if (nm.sparse) out.shared.gateSparse = nm.sparse;
      } else {
        out.shared.gateWeight = tf.clone(s.gateWeight);
        if (s.gateSparse) out.shared.gateSparse = { ...s.gateSparse };
      }
    }
  }
  if (!o.router && view.routerSparse) out.routerSparse = { ...view.routerSparse };
  return out;
}
