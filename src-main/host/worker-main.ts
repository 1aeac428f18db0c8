// Runs inside an engine worker thread: initialises the compute backend, loads the job module and
// runs it with a context whose calls become messages to the host.
import { parentPort, workerData } from 'node:worker_threads';
import { CancelledError, errorLine } from '../engine/errors';
import type { JobContext, JobModule, ProgressUpdate } from '../engine/jobs/job-context';
import { initBackend } from '../engine/tensor/backend';
import { BackendUnavailableError } from '../engine/tensor/backend-error';
import type { HostToWorker, WorkerInput, WorkerToHost } from './protocol';

const port = parentPort;
if (!port) throw new Error('worker-main must run in a worker thread');
const input = workerData as WorkerInput;
const send = (m: WorkerToHost) => port.postMessage(m);

// Progress is rate-limited so a tight loop cannot flood the main thread; step changes always pass.
function progressSender(): (u: ProgressUpdate) => void {
  let last = 0;
  let lastStep = '';
  return (u) => {
    const now = performance.now();
    if (u.step === lastStep && u.fraction < 1 && now - last < 100) return;
    last = now;
    lastStep = u.step;
    const fraction = Math.min(1, Math.max(0, Number.isFinite(u.fraction) ? u.fraction : 0));
    send({ type: 'progress', ...u, fraction });
  };
}

/** A job outside the registry comes by URL; a built-in one through its bundler-visible import. */
async function loadJobModule(job: Extract<WorkerInput, { mode: 'job' }>): Promise<Partial<JobModule>> {
  if (job.module !== null) return (await import(job.module)) as Partial<JobModule>;
  // loaded here, not at the top: a backend probe (doctor) has no use for the job schemas
  const { JOBS } = await import('../engine/jobs/registry');
  const load = JOBS.get(job.kind)?.load;
  if (!load) throw new Error(`no built-in job module for kind '${job.kind}'`);
  return (await load()) as Partial<JobModule>;
}

async function runJob(job: Extract<WorkerInput, { mode: 'job' }>): Promise<void> {
  const flag = new Int32Array(job.cancelFlag);
  const abort = new AbortController();
  port!.on('message', (m: HostToWorker) => {
    if (m.type === 'cancel') abort.abort(new CancelledError());
  });
  const cancelled = () => Atomics.load(flag, 0) === 1 || abort.signal.aborted;
  try {
    const backend = await initBackend({ force: job.backend });
    send({ type: 'backend', active: backend.active, probes: backend.probes });
    const mod = await loadJobModule(job);
    if (typeof mod.run !== 'function') throw new Error(`job module for '${job.kind}' does not export run()`);
    const ctx: JobContext = {
      jobId: job.jobId,
      runId: job.runId,
      backend: backend.active,
      resumeFrom: job.resumeFrom,
      signal: abort.signal,
      throwIfCancelled() {
        if (cancelled()) {
          if (!abort.signal.aborted) abort.abort(new CancelledError());
          throw new CancelledError();
        }
      },
      progress: progressSender(),
      record: {
        layer: (layer, stats, seconds = null, step = 0) =>
          send({ type: 'layer', step, layer, stats, seconds }),
        metric: (name, value, o = {}) =>
          send({
            type: 'metric',
            name,
            value,
            dataset: o.dataset ?? null,
            unit: o.unit ?? null,
            headline: o.headline,
          }),
        artifact: (a) => send({ type: 'artifact', ...a }),
      },
    };
    const result = await mod.run(ctx, job.params);
    send({ type: 'done', result });
  } catch (e) {
    if (e instanceof CancelledError || cancelled()) send({ type: 'cancelled' });
    else send({ type: 'failed', error: errorLine(e) });
  }
}

if (input.mode === 'probe') {
  try {
    const r = await initBackend({ force: input.backend });
    send({ type: 'backend', active: r.active, probes: r.probes });
  } catch (e) {
    if (e instanceof BackendUnavailableError)
      send({ type: 'failed', error: e.message, hint: e.hint, probes: e.probes });
    else send({ type: 'failed', error: errorLine(e) });
  }
} else {
  await runJob(input);
}
port.unref();
