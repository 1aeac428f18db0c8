// The slimming methods (magnitude, wanda, sparsegpt; METHODS §4.1) as pipeline steps: per MoE layer,
// calibration inputs of every touched matrix from only the tokens routed to its expert
// (layer-inputs.ts), the method's mask rule on each matrix (prune-core.ts), the zeros written in place
// and the matrix tagged with its pattern and pruned count (the weight-bytes accounting reads the tag).
// An expert no calibration token reached has no statistics (§10.3): Wanda falls back to |W| (every
// ‖x_j‖ = 1), SparseGPT to H = I (no compensation: block-wise magnitude); counted per layer.
import type { ModelSpec } from '../../model/types';
import type { MagnitudeParams } from '../magnitude.params';
import type { StepImplementation } from '../method';
import type { SparseGptParams } from '../sparsegpt.params';
import type { WandaParams } from '../wanda.params';
import { routerIsLinear, weightTargetLayers } from '../weight-targets';
import { type InputKind, type LayerInputs, LayerInputsCollector, type MatrixInputs } from './layer-inputs';
import { magnitudePrune, sparseGptPrune, wandaPrune } from './prune-core';
import { type NewMatrix, rewriteView, type TargetMatrix } from './rewrite-view';

type SlimMethod = 'magnitude' | 'wanda' | 'sparsegpt';
type AnySlimParams = MagnitudeParams | WandaParams | SparseGptParams;

export const ROUTER_WARNING =
  'the router is slimmed too: this reproduces the Unified reference, whose name filter misses Mixtral/Qwen routers (docs/pipeline-config.md: Slimming and quantization); it is not what the method intends';

const inputKind = (m: SlimMethod): InputKind | null =>
  m === 'magnitude' ? null : m === 'wanda' ? 'diag' : 'gram';

export const includesRouter = (spec: ModelSpec, p: { includeRouter: boolean }) =>
  p.includeRouter && routerIsLinear(spec);

function identityGram(n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) g[i * n + i] = 1;
  return g;
}

/** Whether the statistics of a matrix are missing (§10.3 fallback). */
const idle = (x: MatrixInputs | null) => !x || x.tokens === 0;

export function slimStep(method: SlimMethod): StepImplementation<AnySlimParams> {
  const kind = inputKind(method);
  const step: StepImplementation<AnySlimParams> = {
    touches(ctx, layer) {
      return !!layer.view && weightTargetLayers(ctx.before).some((l) => l.layer === layer.layer);
    },
    calibrateOn: (p) => ('calibrateOn' in p ? p.calibrateOn : 'dense'),
    apply(ctx, layer, stats) {
      const p = ctx.params;
      const inputs = stats as LayerInputs | null;
      const router = includesRouter(ctx.spec, p);
      const perExpert = layer.view!.experts.map(() => ({ pruned: 0, size: 0, loss: 0 }));
      let pruned = 0;
      let size = 0;
      let fallbacks = 0;
      const prune = (m: TargetMatrix): NewMatrix => {
        const spec = { sparsity: p.sparsity, pattern: p.pattern };
        let r: { w: Float32Array; pruned: number; loss?: number };
        if (method === 'magnitude') r = magnitudePrune(m.W, m.rows, m.cols, spec);
        else if (method === 'wanda') {
          const fb = idle(m.inputs);
          if (fb) fallbacks++;
          r = wandaPrune(m.W, m.rows, m.cols, fb ? new Float64Array(m.cols).fill(1) : m.inputs!.sums, spec);
        } else {
          const sp = p as SparseGptParams;
          const fb = idle(m.inputs);
          if (fb) fallbacks++;
          r = sparseGptPrune(
            m.W,
            m.rows,
            m.cols,
            fb ? identityGram(m.cols) : m.inputs!.sums,
            fb ? 2 : m.inputs!.calls,
            {
              ...spec,
              dampening: sp.dampening,
              blockSize: sp.blockSize,
            },
          );
        }
        pruned += r.pruned;
        size += m.W.length;
        if (m.expert !== null) {
          const e = perExpert[m.expert]!;
          e.pruned += r.pruned;
          e.size += m.W.length;
          e.loss += r.loss ?? 0;
        }
        return { w: r.w, sparse: { pattern: p.pattern, pruned: r.pruned } };
      };
      const view = rewriteView(layer.view!, { shared: p.includeShared, router }, inputs, prune);
      const record: Record<string, unknown> = {
        pattern: p.pattern,
        sparsity: size > 0 ? pruned / size : 0,
        pruned,
        matrixEntries: size,
        expertSparsity: perExpert.map((e) => (e.size > 0 ? e.pruned / e.size : 0)),
      };
      if (inputs) {
        record.tokens = inputs.experts.map((e) => e.tokens);
        record.fallbackMatrices = fallbacks;
        record.fallbackExperts = inputs.experts.filter((e) => e.tokens === 0).length;
        record.calibrateOn = (p as WandaParams).calibrateOn;
      }
      if (method === 'sparsegpt') record.expertLoss = perExpert.map((e) => e.loss);
      if (router) record.warning = ROUTER_WARNING;
      return { override: { moe: view }, record };
    },
  };
  if (kind)
    step.collect = async (ctx, layer, sweep) => {
      const c = new LayerInputsCollector(layer.view!, kind, {
        shared: ctx.params.includeShared,
        router: includesRouter(ctx.spec, ctx.params),
      });
      await sweep(c.observer());
      return c.result();
    };
  return step;
}
