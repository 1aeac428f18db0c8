// Messages between the engine host (main thread) and an engine worker.
import type { BackendName, BackendProbe } from '../contract/index';
import type { ProgressUpdate } from '../engine/jobs/job-context';

export type WorkerInput =
  | { mode: 'probe'; backend: BackendName | undefined }
  | {
      mode: 'job';
      jobId: string;
      kind: string;
      /** file URL for jobs outside the built-in registry; null: the worker loads `kind` from JOBS */
      module: string | null;
      params: unknown;
      runId: number | null;
      resumeFrom: number | null;
      backend: BackendName | undefined;
      /** Int32Array(1) over shared memory: 1 = cancel requested (readable inside synchronous loops) */
      cancelFlag: SharedArrayBuffer;
    };

export type HostToWorker = { type: 'cancel' };

export type WorkerToHost =
  | { type: 'backend'; active: BackendName; probes: BackendProbe[] }
  | ({ type: 'progress' } & ProgressUpdate)
  | { type: 'layer'; step: number; layer: number; stats: Record<string, unknown>; seconds: number | null }
  | {
      type: 'metric';
      name: string;
      value: number;
      dataset: string | null;
      unit: string | null;
      headline: boolean | undefined;
    }
  | { type: 'artifact'; path: string; kind: string; bytes: number; sha256: string }
  | { type: 'done'; result: unknown }
  /** `probes`: set when no backend could be initialised, one per backend tried or skipped */
  | { type: 'failed'; error: string; hint?: string | undefined; probes?: BackendProbe[] }
  | { type: 'cancelled' };
