// Pipeline config (version 1): which model, which calibration data, which compression steps, what to
// evaluate and how to export. The method params schemas come from the methods themselves, so this
// file, the CLI, the generated JSON Schema and the UI forms never restate them.
import { z } from 'zod';
import { EngineError } from '../errors';
import { METHODS } from '../methods/registry';

export const CalibrationConfig = z
  .object({
    dataset: z
      .string()
      .min(1)
      .default('calib')
      .describe('built-in dataset name (calib, wikitext2, …) or a .txt/.jsonl/.parquet path'),
    text: z.string().min(1).optional().describe('a UTF-8 text file used instead of dataset'),
    samples: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(32)
      .describe('calibration sequences (SVD-LLM character-offset sampler, METHODS §1.5)'),
    seqLen: z.number().int().min(2).max(32768).default(256).describe('tokens per calibration sequence'),
    seed: z.number().int().default(3).describe('sampler seed (compression-MoE reference runs: 3)'),
    batch: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(8)
      .describe('sequences pushed through a layer together (ASVD "batch" = one executor chunk of these)'),
  })
  .strict();

const stepSchemas = [...METHODS.values()].map((m) =>
  z
    .object({
      method: z.literal(m.id),
      params: (m.params as z.ZodType).prefault({}) as unknown as z.ZodTypeAny,
    })
    .strict()
    .describe(m.title),
);

export const StepConfig = z.discriminatedUnion(
  'method',
  stepSchemas as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export const PipelineConfig = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    name: z.string().min(1).max(200),
    model: z.string().min(1).describe('built-in model name (tiny-mixtral, …) or a Hugging Face model folder'),
    calibration: CalibrationConfig.prefault({}),
    target: z
      .object({
        ratio: z
          .number()
          .min(0)
          .lt(1)
          .describe('whole-model compression ratio 1 − params_after/params_before'),
      })
      .strict()
      .optional()
      .describe('whole-model target; a step may set its own ratio / keepRatio / rank instead'),
    steps: z
      .array(StepConfig)
      .min(1)
      .max(1)
      .describe('compression steps, run in order (runner v1: exactly one low-rank step)'),
    evaluate: z
      .object({
        ppl: z
          .object({
            dataset: z.string().min(1).default('wikitext2'),
            seqLen: z.number().int().min(2).default(2048),
            maxWindows: z.number().int().min(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    export: z
      .object({
        format: z
          .enum(['factored', 'dense'])
          .default('factored')
          .describe(
            "'factored' = factor tensors + moe_workbench config block; 'dense' = W = A·B in the original HF layout",
          ),
        dtype: z
          .enum(['F32', 'F16', 'BF16'])
          .optional()
          .describe('storage dtype (default: the source checkpoint’s)'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type PipelineConfig = z.output<typeof PipelineConfig>;
export type StepConfig = z.output<typeof StepConfig>;

export function parsePipelineConfig(raw: unknown, file?: string): PipelineConfig {
  const r = PipelineConfig.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EngineError(`invalid pipeline config: ${i.message}`, {
      ...(file ? { file } : {}),
      field: i.path.join('.') || '(root)',
      hint: `${r.error.issues.length} problem(s); see resources/pipelines/pipeline.schema.json`,
    });
  }
  const c = r.data;
  const p = c.steps[0]!.params as { ratio?: number; keepRatio?: number; rank?: number };
  if (c.target === undefined && p.ratio === undefined && p.keepRatio === undefined && p.rank === undefined) {
    throw new EngineError(
      'no compression amount: set target.ratio, or steps[0].params.ratio / keepRatio / rank',
      {
        ...(file ? { file } : {}),
        field: 'target',
      },
    );
  }
  return c;
}

export function pipelineJsonSchema(): unknown {
  return z.toJSONSchema(PipelineConfig, { io: 'input', unrepresentable: 'any' });
}
