// The composition root shared by Electron main, `moe-bench serve` and the CLI: opens the store,
// starts the engine host (workers are spawned per job, nothing heavy runs here) and exposes the
// contract's handlers plus an event stream.
import type { EventData, EventName, JobFinished } from '../contract/index';
import { installRoots } from '../engine/io/resolver';
import type { JobRegistry } from '../engine/jobs/registry';
import { type BackendReport, EngineHost } from '../host/engine-host';
import { openStore, resolveHome, type Store, storePathIn } from '../store/index';
import { appVersion } from './app-version';
import { defaultResourcesDir, registerBuiltins } from './builtin-resources';
import { watchExternalRuns } from './external-runs';
import { guardHandlers } from './handler-guard';
import { PathPolicy } from './path-policy';
import type { App, AppOptions, EventListener } from './services';
import { compareHandlers } from './services/compare';
import type { ServiceContext } from './services/context';
import { datasetHandlers } from './services/datasets';
import { datasetPreviewHandlers } from './services/datasets-preview';
import { infoHandlers } from './services/info';
import { jobHandlers } from './services/jobs';
import { methodHandlers } from './services/methods';
import { modelHandlers } from './services/models';
import { modelInspectHandlers } from './services/models-inspect';
import { pipelineExampleHandlers } from './services/pipeline-examples';
import { pipelineHandlers } from './services/pipelines';
import { reportHandlers } from './services/report';
import { runExportHandlers } from './services/run-export';
import { runHandlers } from './services/runs';
import { sweepExampleHandlers } from './services/sweep-examples';
import { createSweepService, type SweepService, sweepHandlers } from './services/sweeps';

/** Test and embedding hooks; the product uses the defaults. */
export interface EngineOptions {
  registry?: JobRegistry;
  workerScript?: URL | string;
  concurrency?: number;
  cancelGraceMs?: number;
  /** where the bundled data sets and models live (default: defaultResourcesDir()); null: none */
  resourcesDir?: string | null;
}

export interface WorkbenchApp extends App {
  readonly home: string;
  readonly storePath: string;
  /** a folder the user picked in a native dialog: renderer requests may name it from now on */
  allowRoot(dir: string): void;
  /** Resolves when the job reaches a final state. */
  waitForJob(jobId: string): Promise<JobFinished>;
  /** Sweeps: plan, create, run or resume in this process, cancel, read. */
  readonly sweeps: SweepService;
  /** Jobs the engine runs at once from now on (a sweep worker's pool). */
  setJobConcurrency(n: number): void;
}

export async function createApp(opts: AppOptions, engine: EngineOptions = {}): Promise<WorkbenchApp> {
  const home = resolveHome(opts.home);
  // the one place the install's resources are located (Electron's resourcesPath or the checkout's
  // resources/): the store's built-ins and every job's model / data set roots come from it
  const resourcesDir = engine.resourcesDir === undefined ? defaultResourcesDir() : engine.resourcesDir;
  const roots = installRoots(resourcesDir, process.env);
  const store: Store = openStore(storePathIn(home));
  try {
    registerBuiltins(store, resourcesDir);
  } catch (e) {
    store.close();
    throw e;
  }
  const listeners = new Set<EventListener>();
  const emit = <E extends EventName>(event: E, data: EventData<E>) => {
    for (const l of listeners) {
      try {
        l(event, data);
      } catch {
        // a faulty listener must not break the host or the other listeners
      }
    }
  };
  const version = appVersion();
  const { resourcesDir: _resources, ...hostOptions } = engine;
  const host = new EngineHost({
    store,
    appVersion: version,
    emit,
    backend: opts.backend,
    roots,
    ...hostOptions,
  });
  let backend: Promise<BackendReport> | null = null;
  const paths = new PathPolicy(opts.mode, home, roots, opts.allowedRoots);
  const ctx: ServiceContext = {
    store,
    host,
    options: opts,
    home,
    appVersion: version,
    roots,
    paths,
    backend: () => {
      backend ??= host.probeBackend().catch((e) => {
        backend = null;
        throw e;
      });
      return backend;
    },
  };
  const sweeps = createSweepService(ctx);
  const handlers = guardHandlers({
    ...sweepHandlers(sweeps, (p) => emit('sweeps.changed', p)),
    ...infoHandlers(ctx),
    ...modelHandlers(ctx),
    ...datasetHandlers(ctx),
    ...pipelineHandlers(ctx),
    ...runHandlers(ctx),
    ...jobHandlers(ctx),
    ...methodHandlers(ctx),
    ...modelInspectHandlers(ctx),
    ...datasetPreviewHandlers(ctx),
    ...compareHandlers(ctx),
    ...reportHandlers(ctx),
    ...pipelineExampleHandlers(resourcesDir),
    ...sweepExampleHandlers(resourcesDir),
    ...runExportHandlers(ctx),
  });
  // a UI follows runs other processes (the CLI) run on this store; the CLI itself needs no watcher
  const stopWatching = opts.mode === 'cli' ? () => {} : watchExternalRuns(store, emit);
  let closing: Promise<void> | null = null;
  return {
    handlers,
    home,
    storePath: store.path,
    allowRoot: (dir) => paths.allow(dir),
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForJob: (jobId) => host.wait(jobId),
    sweeps,
    setJobConcurrency: (n) => host.setConcurrency(n),
    close() {
      closing ??= (async () => {
        stopWatching();
        await host.close();
        store.close();
        listeners.clear();
      })();
      return closing;
    },
  };
}
