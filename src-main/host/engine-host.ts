// The engine host: owns the engine worker threads, queues jobs, relays progress, writes what
// workers record to the store as it arrives, and turns cancels, crashes and odd exits into final
// job and run states without taking the app down.
import { Worker } from 'node:worker_threads';
import type {
  BackendName,
  BackendProbe,
  EventData,
  EventName,
  JobFinished,
  JobInfo,
  JobState,
} from '../contract/index';
import { EngineError, errorLine } from '../engine/errors';
import { type ResolverRoots, resolverFor } from '../engine/io/resolver';
import { withRoots } from '../engine/jobs/refs.params';
import { JOBS, type JobDefinition, type JobRegistry } from '../engine/jobs/registry';
import { plainIssueParts } from '../engine/plain-issue';
import { BackendUnavailableError, backendHint } from '../engine/tensor/backend-error';
import type { Store } from '../store/index';
import { storeFailure } from '../store/store-error';
import { estimateEta } from './eta';
import type { WorkerInput, WorkerToHost } from './protocol';
import { resolveWorkerScript } from './worker-script';

export interface EngineHostOptions {
  store: Store;
  appVersion: string;
  emit: <E extends EventName>(event: E, data: EventData<E>) => void;
  registry?: JobRegistry;
  workerScript?: URL | string;
  /** jobs running at once (default 1: compute jobs fight for the same cores and memory) */
  concurrency?: number;
  /** how long a cancelled worker may take to stop on its own before it is terminated */
  cancelGraceMs?: number;
  backend?: BackendName | undefined;
  /**
   * Where built-in models and data sets live (the app's resources, computed once by the app): added
   * after any roots a job's params give, for the jobs that resolve references.
   */
  roots?: ResolverRoots;
}

export interface BackendReport {
  active: BackendName;
  probes: BackendProbe[];
}

interface Job {
  info: JobInfo;
  def: JobDefinition;
  params: unknown;
  cancelFlag: Int32Array;
  worker: Worker | null;
  runningSince: number | null;
  cancelRequested: boolean;
  graceTimer: NodeJS.Timeout | null;
  settled: boolean;
  /** when its progress was last written to the store (performance.now()) */
  progressStoredAt: number;
  done: Promise<JobFinished>;
  resolve: (f: JobFinished) => void;
}

/** Worker console output goes to stderr: stdout belongs to the CLI's --json output. */
function spawnWorker(script: URL | string, workerData: WorkerInput): Worker {
  const w = new Worker(script, { workerData, stdout: true, stderr: true });
  w.stdout.pipe(process.stderr, { end: false });
  w.stderr.pipe(process.stderr, { end: false });
  return w;
}

/** at most one stored progress record per job in this many ms */
const PROGRESS_STORE_MS = 250;

const oneLine = (e: unknown) => errorLine(e).split('\n')[0]!;

export class EngineHost {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private readonly registry: JobRegistry;
  private readonly script: URL | string;
  private concurrency: number;
  private readonly graceMs: number;
  private nextId = 1;
  private running = 0;
  private closed = false;

  constructor(private readonly opts: EngineHostOptions) {
    this.registry = opts.registry ?? JOBS;
    this.script = opts.workerScript ?? resolveWorkerScript();
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.graceMs = opts.cancelGraceMs ?? 5000;
  }

  /** Jobs run at once from now on (a sweep's local worker pool widens it); queued jobs start as room allows. */
  setConcurrency(n: number): void {
    this.concurrency = Math.max(1, Math.floor(n));
    this.pump();
  }

  get maxConcurrency(): number {
    return this.concurrency;
  }

  kinds(): string[] {
    return [...this.registry.keys()];
  }

  /** Whether jobs of `kind` take the reference fields (baseDir, modelDirs, dataDirs: refs.params.ts). */
  takesReferences(kind: string): boolean {
    return this.registry.get(kind)?.resolve !== undefined;
  }

  /**
   * Validate params and queue a job; throws EngineError for an unknown kind or bad params.
   * With `resumeRunId`, the job continues that failed/cancelled/interrupted run with its stored
   * config; the worker gets the run's last finished layer as `ctx.resumeFrom`.
   */
  start(kind: string, rawParams: unknown, opts: { resumeRunId?: number } = {}): JobInfo {
    if (this.closed) throw new EngineError('the engine host is shut down');
    const def = this.registry.get(kind);
    if (!def) {
      throw new EngineError(`unknown job kind '${kind}'`, {
        field: 'kind',
        hint: `known kinds: ${this.kinds().join(', ')}`,
      });
    }
    let resumeId = opts.resumeRunId;
    if (resumeId !== undefined) {
      const prior = this.opts.store.runs.get(resumeId);
      if (!prior || prior.kind !== kind || !def.createsRun) {
        throw new EngineError(`run ${resumeId} is not a '${kind}' run that can be resumed`, {
          field: 'resumeRunId',
        });
      }
      rawParams = this.opts.store.runs.configOf(resumeId);
    }
    if (def.resolve)
      rawParams = withRoots(
        rawParams ?? {},
        this.opts.roots ?? { modelRoots: [], datasetRoots: [] },
        process.cwd(),
      );
    const parsed = def.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      // every problem, each a plain sentence naming the field, the value and what is allowed
      const [first, ...rest] = parsed.error.issues.map((i) => plainIssueParts(i, rawParams ?? {}, '(root)'));
      throw new EngineError([first!.text, ...rest.map((p) => `params.${p.field}: ${p.text}`)].join('; '), {
        field: `params.${first!.field}`,
      });
    }
    if (resumeId === undefined && def.resumeKey) resumeId = this.continuable(def, parsed.data);
    // every model / data set reference resolves before a run exists: a bad one leaves no run behind
    const modelDir = def.resolve
      ? def.resolve(parsed.data as never, resolverFor(parsed.data as Parameters<typeof resolverFor>[0]))
          .modelDir
      : null;
    if (resumeId !== undefined && !this.opts.store.runs.requeue(resumeId)) {
      throw new EngineError(`run ${resumeId} is still queued or running, or already succeeded`, {
        field: 'resumeRunId',
      });
    }
    const runId =
      resumeId ??
      (def.createsRun
        ? this.opts.store.runs.create({
            kind,
            config: parsed.data,
            modelId: modelDir === null ? null : (this.opts.store.models.findByPath(modelDir)?.id ?? null),
            appVersion: this.opts.appVersion,
            backend: this.opts.backend ?? null,
          }).id
        : null);
    let resolve!: (f: JobFinished) => void;
    const done = new Promise<JobFinished>((r) => {
      resolve = r;
    });
    const job: Job = {
      info: {
        jobId: `job-${this.nextId++}`,
        kind,
        state: 'queued',
        runId,
        startedAt: new Date().toISOString(),
        error: null,
      },
      def,
      params: parsed.data,
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      worker: null,
      runningSince: null,
      cancelRequested: false,
      graceTimer: null,
      settled: false,
      progressStoredAt: -Infinity,
      done,
      resolve,
    };
    this.jobs.set(job.info.jobId, job);
    this.queue.push(job);
    if (runId !== null) this.opts.emit('runs.changed', { runId });
    this.pump();
    return { ...job.info };
  }

  /** The newest unfinished run of `def`'s kind doing the same work as `params` (resumeKey), if any. */
  private continuable(def: JobDefinition, params: unknown): number | undefined {
    const key = def.resumeKey!(params as never);
    const runs = this.opts.store.runs;
    for (const id of runs.unfinishedOf(def.kind)) {
      const stored = def.params.safeParse(runs.configOf(id));
      if (stored.success && def.resumeKey!(stored.data as never) === key) return id;
    }
    return undefined;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }));
  }

  get(jobId: string): JobInfo | null {
    const j = this.jobs.get(jobId);
    return j ? { ...j.info } : null;
  }

  /** Resolves when the job reaches a final state. */
  wait(jobId: string): Promise<JobFinished> {
    const j = this.jobs.get(jobId);
    if (!j) return Promise.reject(new EngineError(`unknown job '${jobId}'`));
    return j.done;
  }

  /** Cooperative cancel first; a worker still busy after the grace period is terminated. */
  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.settled) return false;
    if (job.info.state === 'queued') {
      this.queue.splice(this.queue.indexOf(job), 1);
      this.settle(job, 'cancelled', null);
      return true;
    }
    if (job.cancelRequested) return true;
    job.cancelRequested = true;
    Atomics.store(job.cancelFlag, 0, 1);
    job.worker?.postMessage({ type: 'cancel' });
    job.graceTimer = setTimeout(() => void job.worker?.terminate(), this.graceMs);
    return true;
  }

  /** Which backend engine workers get, asked of a short-lived worker (no tfjs on the main thread). */
  probeBackend(): Promise<BackendReport> {
    const input: WorkerInput = { mode: 'probe', backend: this.opts.backend };
    return new Promise((resolve, reject) => {
      const w = spawnWorker(this.script, input);
      let answered = false;
      w.on('message', (m: WorkerToHost) => {
        if (m.type === 'backend') {
          answered = true;
          resolve({ active: m.active, probes: m.probes });
        } else if (m.type === 'failed') {
          answered = true;
          reject(
            m.probes
              ? new BackendUnavailableError(m.error, m.probes, m.hint ?? backendHint(this.opts.backend))
              : new EngineError(m.error),
          );
        }
        void w.terminate();
      });
      w.on('error', (e) => {
        if (!answered) reject(e);
        answered = true;
      });
      w.on('exit', (code) => {
        if (!answered) reject(new EngineError(`backend probe worker exited with code ${code}`));
      });
    });
  }

  /** Cancel queued jobs, stop running workers now, record them as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, 'cancelled', 'app closed');
    const stopping: Promise<unknown>[] = [];
    for (const job of this.jobs.values()) {
      if (job.settled || !job.worker) continue;
      const w = job.worker;
      this.settle(job, 'cancelled', 'app closed before the job finished');
      stopping.push(w.terminate());
    }
    await Promise.all(stopping);
  }

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.queue.length)
      this.launch(this.queue.shift()!);
  }

  private launch(job: Job): void {
    this.running++;
    job.info.state = 'running';
    job.info.startedAt = new Date().toISOString();
    job.runningSince = performance.now();
    const runId = job.info.runId;
    if (runId !== null) {
      this.opts.store.runs.markRunning(runId);
      this.opts.emit('runs.changed', { runId });
    }
    const input: WorkerInput = {
      mode: 'job',
      jobId: job.info.jobId,
      kind: job.info.kind,
      module: job.def.module ?? null,
      params: job.params,
      runId,
      resumeFrom: runId === null ? null : this.opts.store.runs.lastFinishedLayer(runId),
      backend: this.opts.backend,
      cancelFlag: job.cancelFlag.buffer as SharedArrayBuffer,
    };
    let worker: Worker;
    try {
      worker = spawnWorker(this.script, input);
    } catch (e) {
      this.settle(job, 'failed', `could not start an engine worker: ${oneLine(e)}`);
      return;
    }
    job.worker = worker;
    worker.on('message', (m: WorkerToHost) => this.onMessage(job, m));
    worker.on('error', (e) =>
      this.settle(job, job.cancelRequested ? 'cancelled' : 'failed', `engine worker crashed: ${oneLine(e)}`),
    );
    worker.on('exit', (code) => {
      if (job.cancelRequested) this.settle(job, 'cancelled', null);
      else if (code !== 0) this.settle(job, 'failed', `engine worker exited with code ${code}`);
      else this.settle(job, 'failed', 'engine worker exited without reporting a result');
    });
  }

  private onMessage(job: Job, m: WorkerToHost): void {
    if (job.settled) return;
    const runId = job.info.runId;
    const runs = this.opts.store.runs;
    try {
      switch (m.type) {
        case 'backend':
          if (runId !== null) runs.setBackend(runId, m.active);
          break;
        case 'progress': {
          const elapsed = job.runningSince === null ? 0 : (performance.now() - job.runningSince) / 1000;
          const p = {
            jobId: job.info.jobId,
            runId,
            step: m.step,
            layer: m.layer ?? null,
            layers: m.layers ?? null,
            fraction: m.fraction,
            etaSeconds: estimateEta(elapsed, m.fraction),
            ...(m.message === undefined ? {} : { message: m.message }),
          };
          this.opts.emit('job.progress', p);
          // the store copy lets a UI in another process follow this run (app/external-runs.ts);
          // a few writes a second are plenty for a progress bar
          const now = performance.now();
          if (runId !== null && (now - job.progressStoredAt >= PROGRESS_STORE_MS || m.fraction >= 1)) {
            job.progressStoredAt = now;
            runs.setProgress(runId, p);
          }
          break;
        }
        case 'layer':
          if (runId !== null) runs.recordLayer(runId, m.layer, m.stats, m.seconds, m.step ?? 0);
          break;
        case 'metric':
          if (runId !== null)
            runs.recordMetric(runId, {
              name: m.name,
              value: m.value,
              dataset: m.dataset,
              unit: m.unit,
              headline: m.headline,
            });
          break;
        case 'artifact':
          if (runId !== null)
            runs.recordArtifact(runId, { path: m.path, kind: m.kind, bytes: m.bytes, sha256: m.sha256 });
          break;
        case 'done':
          this.settle(job, 'succeeded', null, m.result);
          break;
        case 'failed':
          this.settle(job, 'failed', m.error);
          break;
        case 'cancelled':
          this.settle(job, 'cancelled', null);
          break;
      }
    } catch (e) {
      this.settle(job, 'failed', oneLine(storeFailure(e, this.opts.store.path, 'record to')));
    }
  }

  private settle(job: Job, state: JobState, error: string | null, result?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (job.graceTimer) clearTimeout(job.graceTimer);
    const wasRunning = job.info.state === 'running';
    job.info.state = state;
    job.info.error = error;
    const runId = job.info.runId;
    if (runId !== null) {
      try {
        this.opts.store.runs.finish(runId, state, error);
      } catch {
        // store already closed (app shutting down): the next open marks the run interrupted
      }
    }
    if (job.worker) {
      void job.worker.terminate();
      job.worker = null;
    }
    if (wasRunning) this.running--;
    if (runId !== null) this.opts.emit('runs.changed', { runId });
    const finished: JobFinished = {
      jobId: job.info.jobId,
      runId,
      state,
      error,
      ...(result === undefined ? {} : { result }),
    };
    this.opts.emit('job.finished', finished);
    job.resolve(finished);
    this.pump();
  }
}
