import { z } from 'zod';
import { SpeedSettings } from '../eval/speed.params';
import type { Resolver } from '../io/resolver';
import { RefParams } from './refs.params';

export const EvalSpeedParams = z
  .object({
    model: z
      .string()
      .min(1)
      .describe('built-in model name (tiny-mixtral, …) or a model folder (HF or workbench format)'),
    ...SpeedSettings.shape,
    ...RefParams,
  })
  .strict();
export type EvalSpeedParams = z.output<typeof EvalSpeedParams>;

export function resolveEvalSpeed(p: EvalSpeedParams, r: Resolver): { modelDir: string } {
  return { modelDir: r.resolveModel(p.model) };
}
