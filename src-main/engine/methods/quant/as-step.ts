// The quantization methods (rtn, gptq; METHODS §4.2) as pipeline steps: every touched matrix of a MoE
// layer becomes a 'quantized' linear whose weights are the exact dequantization s·(q − z) the export
// stores (quantizer.ts). GPTQ's Hessian per expert comes from only the tokens routed to it; an expert
// no calibration token reached has H = 0, and falls back to round-to-nearest (what GPTQ does with
// H = I: no compensation, the same grid), counted per layer (§10.3).
import type { GptqParams } from '../gptq.params';
import type { StepImplementation } from '../method';
import type { RtnParams } from '../rtn.params';
import { type LayerInputs, LayerInputsCollector } from '../slim/layer-inputs';
import { type NewMatrix, rewriteView, type TargetMatrix } from '../slim/rewrite-view';
import { weightTargetLayers } from '../weight-targets';
import { gptqQuantize } from './gptq-core';
import { quantizedWeight } from './quantized-weight';
import { quantGrid, rtnQuantize } from './quantizer';

type QuantMethod = 'rtn' | 'gptq';
type AnyQuantParams = RtnParams | GptqParams;

export function quantStep(method: QuantMethod): StepImplementation<AnyQuantParams> {
  const step: StepImplementation<AnyQuantParams> = {
    touches(ctx, layer) {
      return !!layer.view && weightTargetLayers(ctx.before).some((l) => l.layer === layer.layer);
    },
    calibrateOn: (p) => ('calibrateOn' in p ? p.calibrateOn : 'dense'),
    apply(ctx, layer, stats) {
      const p = ctx.params;
      const inputs = stats as LayerInputs | null;
      const grid = quantGrid(p.bits, p.symmetric);
      const expertLoss = layer.view!.experts.map(() => 0);
      let fallbacks = 0;
      let matrices = 0;
      const quant = (m: TargetMatrix): NewMatrix => {
        matrices++;
        const gp = method === 'gptq' ? (p as GptqParams) : null;
        const fb = !gp || !m.inputs || m.inputs.tokens === 0;
        if (gp && fb) fallbacks++;
        const r = fb
          ? rtnQuantize(m.W, m.rows, m.cols, grid, p.groupSize)
          : gptqQuantize(m.W, m.rows, m.cols, m.inputs!.sums, m.inputs!.calls, grid, {
              groupSize: p.groupSize,
              actOrder: gp!.actOrder,
              dampening: gp!.dampening,
              blockSize: gp!.blockSize,
            });
        if (m.expert !== null && 'loss' in r) expertLoss[m.expert] += r.loss as number;
        const q = quantizedWeight(r, {
          bits: p.bits,
          groupSize: p.groupSize,
          symmetric: p.symmetric,
          actOrder: !fb && !!gp?.actOrder,
          outFeatures: m.rows,
          inFeatures: m.cols,
        });
        return { w: r.w, q };
      };
      const view = rewriteView(layer.view!, { shared: p.includeShared, router: false }, inputs, quant);
      const record: Record<string, unknown> = {
        bits: p.bits,
        groupSize: p.groupSize,
        symmetric: p.symmetric,
        matrices,
        expertBits: layer.view!.experts.map(() => p.bits),
      };
      if (inputs) {
        record.actOrder = (p as GptqParams).actOrder;
        record.tokens = inputs.experts.map((e) => e.tokens);
        record.fallbackMatrices = fallbacks;
        record.fallbackExperts = inputs.experts.filter((e) => e.tokens === 0).length;
        record.calibrateOn = (p as GptqParams).calibrateOn;
        record.expertLoss = expertLoss;
      }
      return { override: { moe: view }, record };
    },
  };
  if (method === 'gptq')
    step.collect = async (ctx, layer, sweep) => {
      const c = new LayerInputsCollector(layer.view!, 'gram', {
        shared: ctx.params.includeShared,
        router: false,
      });
      await sweep(c.observer());
      return c.result();
    };
  return step;
}
