import { z } from 'zod';

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
    baseDir: z
      .string()
      .optional()
      .describe('folder relative model / text paths in the config are resolved against'),
    dataDirs: z.array(z.string()).default([]),
  })
  .strict();
export type CompressParams = z.output<typeof CompressParams>;
