import path from 'node:path';
import { z } from 'zod';
import { findTaskFile } from '../eval/mc/task-data';
import { isMcTask, MC_TASKS } from '../eval/mc/tasks';
import type { Resolver } from '../io/resolver';
import { checkSource } from '../io/token-source';
import { RefParams } from './refs.params';
import { checkOutputFolder } from './work-folder';

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

/** the same output and work folders and the same config: a start continues the unfinished run */
export function compressResumeKey(p: CompressParams): string {
  const outDir = path.resolve(p.baseDir ?? '', p.outDir);
  const workDir = path.resolve(p.baseDir ?? '', p.workDir ?? `${outDir}.work`);
  return JSON.stringify([outDir, workDir, p.config]);
}

interface ConfigRefs {
  model?: unknown;
  calibration?: { dataset?: unknown; text?: unknown };
  evaluate?: { ppl?: { dataset?: unknown }; perplexity?: unknown; mc?: { tasks?: unknown } };
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
  // an output folder that cannot be written fails the start, not the export after the compression
  checkOutputFolder(r.resolvePath(p.outDir), 'outDir');
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
  if (cfg.evaluate?.mc) {
    // unset tasks = all of them (the schema's default); unknown names are the worker parse's to report
    const tasks = Array.isArray(cfg.evaluate.mc.tasks) ? cfg.evaluate.mc.tasks : MC_TASKS;
    for (const t of tasks) if (typeof t === 'string' && isMcTask(t)) findTaskFile(t, r.options.datasetRoots);
  }
  return { modelDir };
}
