// The one typed contract between the renderer (or any client) and the main-side services.
// No Node or Electron imports here: preload and renderer import this file through the
// `@contract` alias. Every request, response and event is a zod schema; the IPC handlers and the
// WebSocket server validate payloads against it on the main side.
import { z } from 'zod';
import { SweepPlan, SweepProgress, SweepRecord, SweepStart, SweepView } from './sweeps';

export const BackendName = z.enum(['node-gpu', 'node', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendName>;

export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

export const BackendProbe = z.object({
  name: BackendName,
  available: z.boolean(),
  /** Why it was skipped or failed, or why it was chosen. */
  reason: z.string(),
});
export type BackendProbe = z.infer<typeof BackendProbe>;

export const DoctorReport = z.object({
  appVersion: z.string(),
  nodeVersion: z.string(),
  platform: z.string(),
  /** null when no backend could be initialised (e.g. a forced one that is not installed) */
  backend: BackendName.nullable(),
  backends: z.array(BackendProbe),
  /** why the backend is null */
  error: z.string().optional(),
  electronBinary: z.object({ present: z.boolean(), path: z.string().nullable(), detail: z.string() }),
  sqliteVersion: z.string(),
  storePath: z.string(),
  schemaVersion: z.number().int(),
  freeMemoryBytes: z.number(),
  totalMemoryBytes: z.number(),
  cpus: z.number().int(),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const ModelRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  path: z.string(),
  architecture: z.string().nullable(),
  builtin: z.boolean(),
  /** inspect summary (architecture-specific), null until inspected */
  summary: z.record(z.string(), z.unknown()).nullable(),
  addedAt: z.string(),
});
export type ModelRecord = z.infer<typeof ModelRecord>;

export const DatasetRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  path: z.string(),
  format: z.enum(['text', 'jsonl', 'parquet', 'builtin']),
  builtin: z.boolean(),
  addedAt: z.string(),
});
export type DatasetRecord = z.infer<typeof DatasetRecord>;

export const PipelineRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  config: z.unknown(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type PipelineRecord = z.infer<typeof PipelineRecord>;

export const MetricRecord = z.object({
  name: z.string(),
  value: z.number(),
  dataset: z.string().nullable(),
  unit: z.string().nullable(),
  /** shown in run lists (RunSummary.headline); chosen by the job that recorded it */
  headline: z.boolean().optional(),
});
export type MetricRecord = z.infer<typeof MetricRecord>;

export const ArtifactRecord = z.object({
  id: z.number().int(),
  path: z.string(),
  kind: z.string(),
  bytes: z.number(),
  sha256: z.string(),
});
export type ArtifactRecord = z.infer<typeof ArtifactRecord>;

export const LayerRecord = z.object({
  /** pipeline step the record belongs to (0 for one-step runs and runs stored before version 3) */
  step: z.number().int().optional(),
  layer: z.number().int(),
  /** Free-form per-layer statistics: ranks, errors, per-expert arrays, timings. */
  stats: z.record(z.string(), z.unknown()),
  seconds: z.number().nullable(),
});
export type LayerRecord = z.infer<typeof LayerRecord>;

/** How a run evaluated (contract/protocol.ts): metrics compare only under the same protocol. */
export const EvalProtocolRecord = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ppl'),
    source: z.enum(['dataset', 'text', 'tokenIds']),
    dataset: z.string(),
    split: z.string().nullable(),
    seqLen: z.number().int(),
    maxWindows: z.number().int().nullable(),
    tokenizer: z.string().nullable(),
  }),
  z.object({
    kind: z.literal('mc'),
    tasks: z.array(z.string()),
    limit: z.number().int().nullable(),
    tokenizer: z.string().nullable(),
  }),
]);

export const RunSummary = z.object({
  id: z.number().int(),
  kind: z.string(),
  status: RunStatus,
  modelId: z.number().int().nullable(),
  modelName: z.string().nullable(),
  pipelineName: z.string().nullable(),
  seed: z.number().int().nullable(),
  backend: z.string().nullable(),
  appVersion: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  seconds: z.number().nullable(),
  error: z.string().nullable(),
  /** Headline metrics for list views (those recorded as headline; first value per name). */
  headline: z.record(z.string(), z.number()),
  /** every evaluation the run's config asks for, in recording order (the first ppl is the primary) */
  protocols: z.array(EvalProtocolRecord).optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunDetail = RunSummary.extend({
  config: z.unknown(),
  metrics: z.array(MetricRecord),
  layers: z.array(LayerRecord),
  artifacts: z.array(ArtifactRecord),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** A run as lists and comparisons need it: its summary plus every metric and what its config says. */
export const RunRow = RunSummary.extend({
  /** every recorded metric by name (first value wins) */
  metrics: z.record(z.string(), z.number()),
  /** from the pipeline config, when the run has one */
  configModel: z.string().nullable(),
  configName: z.string().nullable(),
  methods: z.array(z.string()),
  configTargetRatio: z.number().nullable(),
});
export type RunRow = z.infer<typeof RunRow>;

export const JobKind = z.string().min(1);
export const JobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobState>;

export const JobInfo = z.object({
  jobId: z.string(),
  kind: z.string(),
  state: JobState,
  runId: z.number().int().nullable(),
  startedAt: z.string(),
  error: z.string().nullable(),
});
export type JobInfo = z.infer<typeof JobInfo>;

export const JobProgress = z.object({
  jobId: z.string(),
  runId: z.number().int().nullable(),
  step: z.string(),
  layer: z.number().int().nullable(),
  layers: z.number().int().nullable(),
  fraction: z.number().min(0).max(1),
  etaSeconds: z.number().nullable(),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobFinished = z.object({
  jobId: z.string(),
  runId: z.number().int().nullable(),
  state: JobState,
  error: z.string().nullable(),
  result: z.unknown().optional(),
});
export type JobFinished = z.infer<typeof JobFinished>;

const Empty = z.object({}).strict();
const ById = z.object({ id: z.number().int().positive() }).strict();

/**
 * Method family letters (the keys of a pipeline's `target.contributions`): P expert pruning,
 * M expert merging, D low-rank decomposition, T trimming of layers or blocks, S slimming
 * (sparsity), Q quantization.
 */
export const MethodFamily = z.enum(['P', 'M', 'D', 'T', 'S', 'Q']);
export type MethodFamily = z.infer<typeof MethodFamily>;

/** A compression method as the pipeline editor sees it: its params as JSON Schema (from its zod schema). */
export const MethodInfo = z.object({
  id: z.string(),
  family: MethodFamily,
  title: z.string(),
  description: z.string(),
  /** the integer the budget solver sets (`rank`, `expertsRemoved`, `layersDropped`, …) */
  knob: z.string(),
  paramsSchema: z.unknown(),
});
export type MethodInfo = z.infer<typeof MethodInfo>;

/** One problem in a pipeline config; `path` is dotted (`steps.0.params.rank`), '' for the root. */
export const ConfigIssue = z.object({ path: z.string(), message: z.string() });
export type ConfigIssue = z.infer<typeof ConfigIssue>;

/** How a planned step's amount is decided: its params, its own whole-model ratio, or its budget share. */
export const PlanStepAmount = z.object({
  kind: z.enum(['fixed', 'ratio', 'share']),
  ratio: z.number().optional(),
  family: MethodFamily.optional(),
  contribution: z.number().optional(),
});
export type PlanStepAmount = z.infer<typeof PlanStepAmount>;

/** One step of a pipeline plan (shapes only, before any compute). */
export const PlanStep = z.object({
  method: z.string(),
  family: z.string(),
  amount: PlanStepAmount,
  /** the step's target would add parameters: it changes nothing */
  noop: z.boolean(),
  /** solved knob values (`rank`, `expertsRemoved`, `layers`, `layersDropped`, …) */
  knobs: z.record(z.string(), z.number()),
  paramsAfter: z.number(),
  weightBytesAfter: z.number(),
  /** params minus the entries slimming zeroed */
  nonzerosAfter: z.number().optional(),
  /** whole-model ratio after this step in the plan's unit (1 − paramsAfter/paramsBefore, or of weight bytes) */
  ratioAfter: z.number(),
});
export type PlanStep = z.infer<typeof PlanStep>;

/** What a pipeline will do to its model, from the checkpoint's shapes and the budget solver. */
export const PipelinePlan = z.object({
  model: z.string(),
  architecture: z.string(),
  paramsBefore: z.number(),
  paramsAfter: z.number(),
  weightBytesBefore: z.number(),
  weightBytesAfter: z.number(),
  nonzerosBefore: z.number().optional(),
  nonzerosAfter: z.number().optional(),
  /** what targetRatio / achievedRatio count: parameters (default) or weight bytes */
  unit: z.enum(['params', 'bytes']).optional(),
  achievedRatio: z.number(),
  targetRatio: z.number().nullable(),
  /** largest |achieved − target| the integer knobs explain */
  tolerance: z.number(),
  /** null when the target is reachable; otherwise why not, and what is reachable */
  problem: z.string().nullable(),
  steps: z.array(PlanStep),
});
export type PipelinePlan = z.infer<typeof PipelinePlan>;

export const PipelinePlanResult = z.object({
  ok: z.boolean(),
  /** schema problems, else the plan's (unreachable budget, contributions, knob out of range) */
  issues: z.array(ConfigIssue),
  /** null when the config is invalid or the model cannot be read */
  plan: PipelinePlan.nullable(),
  /**
   * Families of the steps that take their amount from the budget (one contribution each), in
   * step order; known whenever the config passes the schema and the model can be read, even when
   * the budget itself is wrong (so the editor can offer the right contribution sliders).
   */
  budgetFamilies: z.array(MethodFamily),
});
export type PipelinePlanResult = z.infer<typeof PipelinePlanResult>;

export const ModelLayerInfo = z.object({
  layer: z.number().int(),
  kind: z.enum(['moe', 'dense']),
  experts: z.number().int(),
  params: z.number(),
  expertParams: z.number(),
});
export type ModelLayerInfo = z.infer<typeof ModelLayerInfo>;

export const ModelInspection = z.object({
  modelId: z.number().int(),
  summary: z.object({
    architecture: z.string(),
    modelType: z.string(),
    layers: z.number().int(),
    moeLayers: z.array(z.number().int()),
    denseLayers: z.array(z.number().int()),
    expertsPerLayer: z.number().int(),
    topK: z.number().int(),
    sharedExperts: z.number().int(),
    hiddenSize: z.number().int(),
    intermediateSize: z.number().int(),
    moeIntermediateSize: z.number().int(),
    vocabSize: z.number().int(),
    params: z.object({ total: z.number(), experts: z.number(), activePerToken: z.number() }),
    dtype: z.string(),
    bytesOnDisk: z.number(),
  }),
  layers: z.array(ModelLayerInfo),
});
export type ModelInspection = z.infer<typeof ModelInspection>;

export const DatasetPreview = z.object({
  datasetId: z.number().int(),
  path: z.string(),
  rows: z.number().int(),
  chars: z.number().int(),
  /** the first few non-empty rows, each cut to a readable length */
  lines: z.array(z.string()),
  /** tokens in the whole data set with the chosen model's tokenizer; null without a model */
  tokens: z.number().int().nullable(),
  tokenizerModel: z.string().nullable(),
});
export type DatasetPreview = z.infer<typeof DatasetPreview>;

/**
 * Every request: method name -> params schema and result schema. Adding a capability means one
 * entry here, one service method, and the transports pick it up.
 */
export const requests = {
  'app.info': {
    params: Empty,
    result: z.object({
      appVersion: z.string(),
      backend: BackendName,
      storePath: z.string(),
      mode: z.enum(['electron', 'browser']),
    }),
  },
  doctor: { params: Empty, result: DoctorReport },
  'models.list': { params: Empty, result: z.array(ModelRecord) },
  'models.add': {
    params: z.object({ path: z.string().min(1), name: z.string().optional() }).strict(),
    result: ModelRecord,
  },
  'models.remove': { params: ById, result: z.object({ removed: z.boolean() }) },
  'models.inspect': { params: ById, result: ModelInspection },
  'datasets.list': { params: Empty, result: z.array(DatasetRecord) },
  'datasets.add': {
    params: z.object({ path: z.string().min(1), name: z.string().min(1).optional() }).strict(),
    result: DatasetRecord,
  },
  'datasets.preview': {
    params: z
      .object({
        id: z.number().int().positive(),
        modelId: z.number().int().positive().optional(),
        lines: z.number().int().min(1).max(50).optional(),
      })
      .strict(),
    result: DatasetPreview,
  },
  'methods.list': { params: Empty, result: z.array(MethodInfo) },
  'pipelines.schema': { params: Empty, result: z.unknown() },
  'pipelines.validate': {
    params: z.object({ config: z.unknown() }).strict(),
    result: z.object({ ok: z.boolean(), issues: z.array(ConfigIssue) }),
  },
  /** The plan of a config (shapes only, fast): per step its knobs, params and ratio after, with the problems. */
  'pipelines.plan': {
    params: z.object({ config: z.unknown() }).strict(),
    result: PipelinePlanResult,
  },
  'pipelines.get': { params: ById, result: PipelineRecord },
  'pipelines.delete': { params: ById, result: z.object({ deleted: z.boolean() }) },
  /**
   * Validate a config (schema, then plan) and start a `compress` job with the resolved config
   * (defaults filled in, version 2): what runs is what the run stores. The export goes under the app home.
   */
  'pipelines.run': {
    params: z.object({ config: z.unknown(), pipelineId: z.number().int().positive().optional() }).strict(),
    result: JobInfo,
  },
  'pipelines.list': { params: Empty, result: z.array(PipelineRecord) },
  /** The example pipelines shipped in resources/pipelines/, to open in the editor. */
  'pipelines.examples': {
    params: Empty,
    result: z.array(z.object({ file: z.string(), name: z.string(), config: z.unknown() })),
  },
  'pipelines.save': {
    params: z
      .object({ id: z.number().int().positive().optional(), name: z.string().min(1), config: z.unknown() })
      .strict(),
    result: PipelineRecord,
  },
  'runs.list': {
    params: z
      .object({
        status: RunStatus.optional(),
        limit: z.number().int().positive().max(10_000).optional(),
        offset: z.number().int().nonnegative().optional(),
      })
      .strict(),
    result: z.array(RunSummary),
  },
  'runs.get': { params: ById, result: RunDetail },
  'runs.table': {
    params: z
      .object({
        status: RunStatus.optional(),
        kind: z.string().optional(),
        limit: z.number().int().positive().max(100_000).optional(),
      })
      .strict(),
    result: z.array(RunRow),
  },
  /**
   * Delete a finished run and its records. `artifacts`: 'keep' (default) leaves the files it wrote;
   * 'remove' deletes the export folders it wrote under the app home (files elsewhere are kept and
   * listed: the app removes only what it owns).
   */
  /**
   * What a run's checkpoint can be exported as: the formats the export job offers that apply to the
   * run (gptq only after a quantization step), and where an export goes by default.
   */
  'runs.exportOptions': {
    params: ById,
    result: z.object({
      /** the folder the run wrote its checkpoint to; null when it wrote none */
      checkpoint: z.string().nullable(),
      formats: z.array(z.string()),
      defaultOutDir: z.string(),
    }),
  },
  'runs.delete': {
    params: z
      .object({ id: z.number().int().positive(), artifacts: z.enum(['keep', 'remove']).optional() })
      .strict(),
    result: z.object({
      deleted: z.boolean(),
      /** folders removed with the run */
      removed: z.array(z.string()).optional(),
      /** artifact paths left on disk */
      kept: z.array(z.string()).optional(),
    }),
  },
  /** A report of one run or a comparison (deltas against `baseline`, default the first id): app/report/. */
  'runs.report': {
    params: z
      .object({
        ids: z.array(z.number().int().positive()).min(1).max(32),
        format: z.enum(['html', 'md', 'csv']),
        baseline: z.number().int().positive().optional(),
      })
      .strict(),
    result: z.object({ filename: z.string(), mime: z.string(), content: z.string() }),
  },
  'jobs.start': {
    params: z.object({ kind: JobKind, params: z.record(z.string(), z.unknown()).default({}) }).strict(),
    result: JobInfo,
  },
  'jobs.cancel': {
    params: z.object({ jobId: z.string().min(1) }).strict(),
    result: z.object({ cancelled: z.boolean() }),
  },
  'jobs.list': { params: Empty, result: z.array(JobInfo) },
  /** Expand a sweep spec and plan every point (shapes only, nothing runs). */
  'sweeps.plan': { params: z.object({ spec: z.unknown() }).strict(), result: SweepPlan },
  'sweeps.list': { params: Empty, result: z.array(SweepRecord.extend({ progress: SweepProgress })) },
  'sweeps.get': { params: ById, result: SweepView },
  /** Store and run a spec, or resume a stored sweep; runs in the background (progress: `sweeps.changed`). */
  'sweeps.start': { params: SweepStart, result: SweepRecord },
  'sweeps.cancel': { params: ById, result: z.object({ cancelRequested: z.boolean() }) },
  /** The example sweep specs shipped in resources/sweeps/, to open in the editor. */
  'sweeps.examples': {
    params: Empty,
    result: z.array(z.object({ file: z.string(), name: z.string(), spec: z.unknown() })),
  },
  /** A sweep's surfaces as one report (app/report/sweep-*.ts), for one metric (default ppl). */
  'sweeps.report': {
    params: z
      .object({
        id: z.number().int().positive(),
        format: z.enum(['html', 'md', 'csv']),
        metric: z.string().min(1).optional(),
      })
      .strict(),
    result: z.object({ filename: z.string(), mime: z.string(), content: z.string() }),
  },
} as const;

export type RequestMap = typeof requests;
export type Method = keyof RequestMap;
export type Params<M extends Method> = z.input<RequestMap[M]['params']>;
export type Result<M extends Method> = z.infer<RequestMap[M]['result']>;

export const events = {
  'job.progress': JobProgress,
  'job.finished': JobFinished,
  'runs.changed': z.object({ runId: z.number().int() }),
  /** A sweep's points changed (a point started or settled, the sweep ended). */
  'sweeps.changed': SweepProgress,
  /** A model was added or removed (by any client, or the desktop menu): lists should reload. */
  'models.changed': z.object({ modelId: z.number().int() }),
} as const;
export type EventMap = typeof events;
export type EventName = keyof EventMap;
export type EventData<E extends EventName> = z.infer<EventMap[E]>;

export const ErrorCode = z.enum([
  'bad_json',
  'bad_request',
  'unknown_method',
  'not_found',
  'unauthorized',
  'conflict',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** Wire frames (WebSocket; IPC carries the same objects). */
export const RequestFrame = z.object({
  id: z.union([z.string(), z.number()]),
  method: z.string(),
  params: z.unknown().optional(),
});
export type RequestFrame = z.infer<typeof RequestFrame>;
export type ResponseFrame =
  | { id: string | number; ok: true; result: unknown }
  | { id: string | number | null; ok: false; error: ApiErrorBody };
export type EventFrame = { event: EventName; data: unknown };

export function isMethod(name: string): name is Method {
  return Object.hasOwn(requests, name);
}

export * from './sweeps';
