import { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { RefParams } from './refs.params';

export const ExportParams = z
  .object({
    model: z
      .string()
      .min(1)
      .describe(
        'the checkpoint to re-export: a model folder (workbench format or plain HF) or a built-in name',
      ),
    outDir: z.string().min(1).describe('output folder'),
    format: z
      .enum(['dense', 'factored', 'gptq'])
      .default('dense')
      .describe("'gptq' packs the quantized linears in the AutoGPTQ layout (docs/export-formats.md)"),
    dtype: z.enum(['F32', 'BF16', 'F16']).optional().describe('storage dtype (default: the source dtype)'),
    ...RefParams,
  })
  .strict();
export type ExportParams = z.output<typeof ExportParams>;

export function resolveExport(p: ExportParams, r: Resolver): { modelDir: string } {
  return { modelDir: r.resolveModel(p.model) };
}
