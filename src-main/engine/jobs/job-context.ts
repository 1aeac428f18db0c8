// What a job module sees inside its engine worker. Everything it records goes to the host as a
// message and is written to the store on the main thread as it arrives.
import type { BackendName } from '../../contract/index';

export interface ProgressUpdate {
  step: string;
  layer?: number | null;
  layers?: number | null;
  /** 0..1 over the whole job; drives the ETA */
  fraction: number;
  message?: string;
}

export interface JobRecorder {
  /** a layer's record; `step` = the pipeline step it belongs to (default 0) */
  layer(layer: number, stats: Record<string, unknown>, seconds?: number | null, step?: number): void;
  /**
   * `name`: one of the contract's METRICS (contract/metrics.ts) wherever one fits; the store gives a
   * known name the table's unit, so `unit` only matters for other names. `headline`: show it in run
   * lists (RunSummary.headline); omitted: the table's default for the name (false for other names).
   */
  metric(
    name: string,
    value: number,
    opts?: { dataset?: string | null; unit?: string | null; headline?: boolean },
  ): void;
  artifact(a: { path: string; kind: string; bytes: number; sha256: string }): void;
}

export interface JobContext {
  readonly jobId: string;
  readonly runId: number | null;
  readonly backend: BackendName;
  /** Last layer a previous attempt of this run finished, for resumable jobs; null when starting fresh. */
  readonly resumeFrom: number | null;
  /** Aborted when the host asks to cancel (seen once the worker's event loop turns). */
  readonly signal: AbortSignal;
  /** Throws CancelledError if cancel was requested; cheap and synchronous, call it inside hot loops. */
  throwIfCancelled(): void;
  progress(update: ProgressUpdate): void;
  readonly record: JobRecorder;
}

/** A job module exports `run`; its params arrive already parsed by the registry's schema. */
export interface JobModule<P = unknown> {
  run(ctx: JobContext, params: P): Promise<unknown>;
}
