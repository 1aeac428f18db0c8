// Parameters, knob and byte accounting shared by the quantization methods (family Q: rtn, gptq;
// METHODS §4.2). No tfjs. The knob `bits` is fixed by the params: quantization changes the bytes a
// matrix takes (the GPTQ layout, quant/accounting.ts), not its parameter count, so Q steps take no
// share of a parameter budget. Routers are never quantized (the reference quantizes expert and
// attention linears with AutoGPTQ/AutoAWQ; its router inclusion is a slimming-only accident).
import { z } from 'zod';
import type { ModelSpec } from '../../model/types';
import type { ModelPlanState } from '../../pipeline/plan-state';
import type { KnobSpec } from '../method';
import {
  type WeightBytesPlan,
  weightBytesPlan,
  weightTargetCheck,
  withLayerStorage,
} from '../weight-targets';
import { GROUP_SIZES, QUANT_BITS, quantMatrixBytes } from './accounting';

export const QuantOptions = {
  bits: z.literal(QUANT_BITS).default(4).describe('bits per weight: 4 or 8 (Unified GPTQ/AWQ: 4)'),
  groupSize: z
    .literal(GROUP_SIZES)
    .default(128)
    .describe(
      'input columns sharing one scale and zero point: 32, 64, 128, or -1 = one per output channel (Unified: 128)',
    ),
  symmetric: z
    .boolean()
    .default(true)
    .describe(
      'symmetric grid (zero point at mid-range, AutoGPTQ sym=True default); false = min-max asymmetric',
    ),
  includeShared: z.boolean().default(false).describe('also quantize the shared expert(s)'),
};

export interface QuantParams {
  bits: 4 | 8;
  groupSize: number;
  symmetric: boolean;
  includeShared: boolean;
}

/** Byte accounting of a quantization step: every touched matrix in the GPTQ layout. */
export function quantWeightBytes<P extends QuantParams>(
  p: P,
  spec: ModelSpec | null,
  s: ModelPlanState,
): WeightBytesPlan {
  return weightBytesPlan(spec, s, { includeShared: p.includeShared }, (m) => ({
    values: 0,
    extraBytes: quantMatrixBytes(m.rows, m.cols, p.bits, p.groupSize),
    zeros: 0,
  }));
}

export function quantKnob<P extends QuantParams>(): KnobSpec<P> {
  return {
    name: 'bits',
    fixed: (p) => p.bits,
    range: () => [4, 8],
    apply: (p, s) => withLayerStorage(s, quantWeightBytes(p, null, s)),
  };
}

export const quantCheck = (s: ModelPlanState) => weightTargetCheck(s, 'quantization');
