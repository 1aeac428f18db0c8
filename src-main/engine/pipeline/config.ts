// Pipeline config (version 2; version 1 files still load): which model, which calibration data, which
// compression steps in execution order, one whole-model budget split between them by contribution,
// what to evaluate and how to export. The method params schemas come from the method declarations
// (tfjs-free), so this file, the CLI, the generated JSON Schema and the UI forms never restate them.
// Parsed once at the boundary: `parsePipelineConfig` returns the resolved config (defaults filled in,
// version 1 upgraded), which is what runs and what the store keeps.
import { z } from 'zod';
import { EngineError } from '../errors';
import { McSettings } from '../eval/mc/settings.params';
import { SpeedSettings } from '../eval/speed.params';
import { METHODS } from '../methods/catalog';
import { FAMILIES } from '../methods/method';

export const CalibrationConfig = z
  .object({
    dataset: z
      .string()
      .min(1)
      .default('calib')
      .describe('built-in dataset name (calib, heldout, …) or a .txt/.jsonl/.parquet path'),
    text: z.string().min(1).optional().describe('a UTF-8 text file used instead of dataset'),
    samples: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(32)
      .describe(
        'calibration sequences (SVD-LLM character-offset sampler; docs/pipeline-config.md: calibration)',
      ),
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
    .describe(`${m.title} (family ${m.family})`),
);

export const StepConfig = z.discriminatedUnion(
  'method',
  stepSchemas as unknown as [z.ZodObject, ...z.ZodObject[]],
);

const Contributions = z
  .partialRecord(z.enum(FAMILIES), z.number().min(0).max(1))
  .describe(
    'share of the total ratio per family letter of the budget-driven steps (P prune, M merge, D decompose, T trim, S slim, Q quantize); must sum to 1; default: equal shares',
  );

export const TargetConfig = z
  .object({
    ratio: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        'whole-model compression ratio 1 − params_after/params_before (docs/pipeline-config.md: target.ratio), or of weight bytes with unit "bytes"',
      ),
    contributions: Contributions.optional(),
    unit: z
      .enum(['params', 'bytes'])
      .optional()
      .describe(
        "what the ratio counts: 'params' (default, every stored parameter) or 'bytes' (weight bytes as exported: slimmed matrices as kept values + index, quantized ones in the GPTQ layout)",
      ),
  })
  .strict()
  .describe(
    'one whole-model budget split between the steps that set no amount of their own (docs/pipeline-config.md: How much each step does)',
  );

const PplEvaluation = z
  .object({
    dataset: z.string().min(1).default('wikitext2'),
    seqLen: z.number().int().min(2).default(2048),
    maxWindows: z.number().int().min(1).optional(),
  })
  .strict();

const EvaluateConfig = z
  .object({
    ppl: PplEvaluation.optional().describe(
      'perplexity of the compressed model (docs/evaluation.md: Perplexity); the primary figure',
    ),
    perplexity: z
      .array(PplEvaluation)
      .max(8)
      .optional()
      .describe('further perplexity evaluations after `ppl` (e.g. ptb, c4), each recorded with its dataset'),
    mc: McSettings.optional().describe(
      'zero-shot multiple-choice accuracy of the compressed model (lm-eval 0.4; docs/evaluation.md: Multiple choice): acc / acc_norm per task',
    ),
    speed: SpeedSettings.optional().describe(
      'prefill/decode tokens/s, FLOPs/token of the compressed model and of the original (docs/evaluation.md: Speed and size)',
    ),
  })
  .strict();

const ExportConfig = z
  .object({
    format: z
      .enum(['factored', 'dense', 'gptq'])
      .default('factored')
      .describe(
        "'factored' = the workbench format (docs/workbench-format.md: factors, pruned/dropped layers, quantized codes); 'dense' = a plain Hugging Face checkpoint (W = A·B, experts renumbered, sparse and quantized weights as floats) where the layout allows it; 'gptq' = that checkpoint with the quantized linears packed in the AutoGPTQ layout (qweight/qzeros/scales/g_idx) and a quantization_config (docs/export-formats.md)",
      ),
    dtype: z
      .enum(['F32', 'F16', 'BF16'])
      .optional()
      .describe('storage dtype (default: the source checkpoint’s)'),
  })
  .strict();

const common = {
  $schema: z.string().optional(),
  name: z.string().min(1).max(200),
  model: z.string().min(1).describe('built-in model name (tiny-mixtral, …) or a Hugging Face model folder'),
  calibration: CalibrationConfig.prefault({}),
  target: TargetConfig.optional(),
  evaluate: EvaluateConfig.optional(),
  export: ExportConfig.optional(),
};

export const PipelineConfigV2 = z
  .object({
    ...common,
    version: z.literal(2),
    steps: z
      .array(StepConfig)
      .min(1)
      .max(16)
      .describe('compression steps in execution order; each sees the model the previous ones left'),
  })
  .strict();

const PipelineConfigV1 = z
  .object({
    ...common,
    version: z.literal(1),
    steps: z.array(StepConfig).min(1).max(1).describe('version 1: exactly one step'),
  })
  .strict();

export const PipelineConfig = z.discriminatedUnion('version', [PipelineConfigV2, PipelineConfigV1]);

/** The resolved config: version 2, every default filled in. What runs, and what the store keeps. */
export type StepConfig = { method: string; params: Record<string, unknown> };
export type PipelineConfig = Omit<z.output<typeof PipelineConfigV2>, 'version' | 'steps' | '$schema'> & {
  version: 2;
  steps: StepConfig[];
};

export interface ConfigProblem {
  path: string;
  message: string;
}

/** Plain-sentence problems with the field, the value and what is allowed. */
export function configProblems(
  raw: unknown,
): { ok: true; config: PipelineConfig } | { ok: false; problems: ConfigProblem[] } {
  const r = PipelineConfig.safeParse(raw);
  if (!r.success) {
    return {
      ok: false,
      problems: r.error.issues.map((i) => ({
        path: i.path.map(String).join('.'),
        message: plainMessage(i, raw),
      })),
    };
  }
  const { $schema: _s, ...c } = r.data;
  const config = { ...c, version: 2 } as PipelineConfig;
  return { ok: true, config };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function plainMessage(i: z.core.$ZodIssue, raw: unknown): string {
  const field = i.path.map(String).join('.') || 'the config';
  const value = valueAt(raw, i.path);
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  switch (i.code) {
    case 'invalid_union':
    case 'invalid_value':
      if (
        i.path.at(-1) === 'method' ||
        (i.code === 'invalid_union' && i.path.length === 2 && i.path[0] === 'steps')
      ) {
        return `${field}: unknown method ${JSON.stringify(valueAt(raw, [...i.path, 'method']) ?? value)}; allowed: ${[...METHODS.keys()].join(', ')}`;
      }
      if (i.path.at(-1) === 'version' || i.path.length === 0)
        return `${field}: version must be 1 or 2, got ${JSON.stringify(valueAt(raw, ['version']))}`;
      return `${field}: ${shown} is not allowed; ${'values' in i ? `allowed: ${(i.values as unknown[]).map((x) => JSON.stringify(x)).join(', ')}` : i.message}`;
    case 'too_big':
      return `${field}: ${shown} is too large; at most ${i.maximum}${i.inclusive === false ? ' (exclusive)' : ''}`;
    case 'too_small':
      return `${field}: ${shown} is too small; at least ${i.minimum}${i.inclusive === false ? ' (exclusive)' : ''}`;
    case 'invalid_type':
      return value === undefined
        ? `${field} is required (${i.expected})`
        : `${field}: expected ${i.expected}, got ${shown}`;
    case 'unrecognized_keys':
      return `${field}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`;
    default:
      return `${field}: ${i.message}`;
  }
}

/** Parse and resolve a config, or throw one EngineError listing every problem. */
export function parsePipelineConfig(raw: unknown, file?: string): PipelineConfig {
  const r = configProblems(raw);
  if (!r.ok) {
    const first = r.problems[0]!;
    throw new EngineError(
      `invalid pipeline config (${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}): ${r.problems.map((p) => p.message).join('; ')}`,
      {
        ...(file ? { file } : {}),
        field: first.path || '(root)',
        hint: 'docs/pipeline-config.md describes every field; resources/pipelines/ has examples',
      },
    );
  }
  return r.config;
}

export function pipelineJsonSchema(): unknown {
  return z.toJSONSchema(PipelineConfig, { io: 'input', unrepresentable: 'any' });
}
