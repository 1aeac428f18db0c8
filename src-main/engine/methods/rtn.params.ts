// Declaration of `rtn` (family Q): round-to-nearest onto a min-max grid per output channel or per
// group of input columns (quant/quantizer.ts), int4/int8. No calibration.
import { z } from 'zod';
import type { MethodDeclaration } from './method';
import { QuantOptions, quantCheck, quantKnob } from './quant/params-common';

export const RtnParams = z
  .object({ ...QuantOptions })
  .strict()
  .describe('round-to-nearest weight quantization of the expert matrices (no calibration)');
export type RtnParams = z.output<typeof RtnParams>;

export const rtnDeclaration: MethodDeclaration<RtnParams> = {
  id: 'rtn',
  family: 'Q',
  title: 'Round-to-nearest',
  description:
    'Quantize every expert matrix to int4/int8 on a per-group min-max grid; forward uses the dequantized weights.',
  params: RtnParams,
  knob: quantKnob(),
  check: (_p, s) => quantCheck(s),
  load: async () => (await import('./quant/as-step')).quantStep('rtn'),
};
