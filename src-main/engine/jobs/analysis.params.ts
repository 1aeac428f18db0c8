// Params of the analysis jobs (`analysis.<kind>`, docs/analyses.md), declared once here: the CLI
// (`moe-bench analyze <kind>`), the UI form and validation derive from them. Main-thread safe: zod
// and the tfjs-free pipeline config (calibration block, method catalog) only.
import { z } from 'zod';
import type { AnalysisKind } from '../../contract/analyses';
import type { Resolver } from '../io/resolver';
import { checkSource } from '../io/token-source';
import { CalibrationConfig } from '../pipeline/config';
import { RefParams } from './refs.params';

const common = {
  model: z
    .string()
    .min(1)
    .describe('built-in model name (tiny-mixtral, …) or a model folder (a workbench export too)'),
  calibration: CalibrationConfig.prefault({}).describe(
    'calibration tokens the analysis routes (the sampler of docs/pipeline-config.md: calibration)',
  ),
  layers: z
    .array(z.number().int().min(0))
    .min(1)
    .optional()
    .describe('layers to analyse (default: every MoE layer)'),
  ...RefParams,
};

export const RoutingAnalysisParams = z
  .object({
    ...common,
    minTokens: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('an expert counts as covered with at least this many routed calibration tokens'),
  })
  .strict();

export const EntropyAnalysisParams = z.object(common).strict();

export const SimilarityAnalysisParams = z
  .object({
    ...common,
    ckaTokens: z
      .number()
      .int()
      .min(2)
      .max(8192)
      .default(512)
      .describe('calibration tokens every expert is run on for the output CKA (the first ones)'),
  })
  .strict();

export const EnergyAnalysisParams = z
  .object({
    ...common,
    whitened: z
      .boolean()
      .default(false)
      .describe('energy of W·S with S = chol(G) from the expert’s routed tokens (SVD-LLM), instead of W'),
  })
  .strict();

export const SensitivityAnalysisParams = z
  .object({
    ...common,
    method: z.string().min(1).describe('compression method id (svd-llm, expert-prune, …)'),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('the method’s params (its knob, if given, replaces ratio)'),
    ratio: z
      .number()
      .min(0)
      .lt(1)
      .default(0.4)
      .describe('share of each layer’s routed-expert parameters (experts and router rows) to remove'),
    evaluation: z
      .object({
        dataset: z.string().min(1).default('wikitext2').describe('built-in dataset name or a data file'),
        seqLen: z.number().int().min(2).max(32768).default(2048),
        maxWindows: z.number().int().min(1).optional(),
        batch: z.number().int().min(1).optional(),
      })
      .strict()
      .prefault({})
      .describe(
        'perplexity windows, the same for the baseline and every layer (docs/evaluation.md: Perplexity)',
      ),
  })
  .strict();

export const ANALYSIS_PARAMS = {
  sensitivity: SensitivityAnalysisParams,
  routing: RoutingAnalysisParams,
  similarity: SimilarityAnalysisParams,
  energy: EnergyAnalysisParams,
  entropy: EntropyAnalysisParams,
} as const satisfies Record<AnalysisKind, z.ZodType>;

export type AnalysisParams<K extends AnalysisKind> = z.output<(typeof ANALYSIS_PARAMS)[K]>;

/** Main thread, before the run exists: the model, the calibration data and the evaluation data set. */
export function resolveAnalysis(p: AnalysisParams<AnalysisKind>, r: Resolver): { modelDir: string } {
  const modelDir = r.resolveModel(p.model);
  const cal = p.calibration;
  checkSource(cal.text !== undefined ? { text: cal.text } : { dataset: cal.dataset }, r, 'calibration.');
  if ('evaluation' in p) checkSource({ dataset: p.evaluation.dataset }, r, 'evaluation.');
  return { modelDir };
}
