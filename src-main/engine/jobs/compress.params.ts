import { z } from 'zod';
import type { Resolver } from '../io/resolver';
import { checkSource } from '../io/token-source';
import { RefParams } from './refs.params';

// The pipeline config is validated by the worker (parsePipelineConfig): its method schemas live
// with the methods, which import tfjs, and this file is loaded on the main thread.
export const CompressParams = z
  .object({
    config: z
      .record(z.string(), z.unknown())
      .describe('pipeline config (version 1), see resources/pipelines/pipeline.schema.json'),
    outDir: z.string().min(1).describe('folder the compressed checkpoint is written to'),
    workDir: z
      .string()
      .min(1)
      .optional()
      .describe('per-layer work files (default <outDir>.work); kept until the export succeeds'),
    ...RefParams,
    baseDir: z
      .string()
      .optional()
      .describe('folder relative model / text paths in the config are resolved against'),
  })
  .strict();
export type CompressParams = z.output<typeof CompressParams>;

interface ConfigRefs {
  model?: unknown;
  calibration?: { dataset?: unknown; text?: unknown };
  evaluate?: { ppl?: { dataset?: unknown }; perplexity?: unknown };
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Main thread, before the run exists: the config's model, calibration data and evaluation data set
 * must resolve. Reads the raw config (the schema is the worker's); the defaults are the schema's
 * (calibration.dataset 'calib', evaluation datasets 'wikitext2'). Malformed fields are left to
 * the worker's parse, which names them.
 */
export function resolveCompress(p: CompressParams, r: Resolver): { modelDir: string | null } {
  const cfg = p.config as ConfigRefs;
  const model = str(cfg.model);
  const modelDir = model === undefined ? null : r.resolveModel(model, { field: 'config.model' });
  const text = str(cfg.calibration?.text);
  checkSource(
    text !== undefined ? { text } : { dataset: str(cfg.calibration?.dataset) ?? 'calib' },
    r,
    'config.calibration.',
  );
  if (cfg.evaluate?.ppl)
    checkSource({ dataset: str(cfg.evaluate.ppl.dataset) ?? 'wikitext2' }, r, 'config.evaluate.ppl.');
  const more = Array.isArray(cfg.evaluate?.perplexity)
    ? (cfg.evaluate.perplexity as { dataset?: unknown }[])
    : [];
  for (const [i, ev] of more.entries())
    checkSource({ dataset: str(ev?.dataset) ?? 'wikitext2' }, r, `config.evaluate.perplexity[${i}].`);
  return { modelDir };
}
