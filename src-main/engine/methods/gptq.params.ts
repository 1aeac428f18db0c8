// Declaration of `gptq` (family Q, METHODS §4.2; AutoGPTQ fasterquant): per expert the damped Hessian
// of its routed tokens, optional activation order, lazy block updates with OBS error compensation.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { QuantOptions, quantCheck, quantKnob } from './quant/params-common';
import { CalibrateOn, HessianOptions, slimStatsBytes } from './slim/params-common';

export const GptqParams = z
  .object({
    ...QuantOptions,
    actOrder: z
      .boolean()
      .default(true)
      .describe(
        'quantize columns by descending Hessian diagonal (AutoGPTQ desc_act; Unified: on); g_idx records the groups',
      ),
    ...HessianOptions,
    calibrateOn: CalibrateOn,
  })
  .strict()
  .describe(
    'GPTQ: Hessian-aware weight quantization of the expert matrices, per-expert routed-token Hessians',
  );
export type GptqParams = z.output<typeof GptqParams>;

export const gptqDeclaration: MethodDeclaration<GptqParams> = {
  id: 'gptq',
  family: 'Q',
  title: 'GPTQ',
  description:
    'Quantize with the inverse Hessian of each expert’s routed tokens (damped, optional act-order, lazy batch updates); idle experts fall back to RTN.',
  params: GptqParams,
  knob: quantKnob(),
  check: (_p, s) => quantCheck(s),
  statsBytes: (p, spec) => slimStatsBytes(spec, p, 'gram'),
  load: async () => (await import('./quant/as-step')).quantStep('gptq'),
};
