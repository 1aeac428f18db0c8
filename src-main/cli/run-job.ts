// Every CLI command that computes runs as a job through the app (engine host → worker → store), so
// each result is a stored run: start it, relay its progress to stderr, cancel it on Ctrl+C, and
// turn anything but success into one error line. A reference that does not resolve fails the
// start itself (the host resolves before creating the run), leaving no run behind.
import path from 'node:path';
import type { JobFinished, JobProgress } from '../contract/index';
import { CliError } from './cli-error';
import type { CliContext } from './context';

export interface RunJobOptions {
  /** names the command in the failure line: `${label} failed: …` */
  label: string;
  /** which progress events to print (default: all) */
  show?: (p: JobProgress, verbose: boolean) => boolean;
  /** the line printed on Ctrl+C */
  cancelNote?: string;
}

export function progressLine(p: JobProgress): string {
  return `[run ${p.runId ?? '-'}] ${(p.fraction * 100).toFixed(0).padStart(3)}% ${p.step}${p.message ? `: ${p.message}` : ''}${p.etaSeconds === null ? '' : ` eta ${p.etaSeconds.toFixed(0)}s`}`;
}

/** The reference fields of a job started from CLI flags: paths against the working directory. */
export function cliRefs(dataDirs: readonly string[] = []): { baseDir: string; dataDirs: string[] } {
  return { baseDir: process.cwd(), dataDirs: dataDirs.map((d) => path.resolve(d)) };
}

/** Runs job `kind` to its end; returns the finished job (state 'succeeded', with its result). */
export async function runJob<R>(
  ctx: CliContext,
  kind: string,
  params: Record<string, unknown>,
  opts: RunJobOptions,
): Promise<JobFinished & { result: R }> {
  const app = await ctx.app();
  const job = await app.handlers['jobs.start']({ kind, params });
  const verbose = ctx.globals().verbose;
  const off = app.on((event, data) => {
    const p = data as JobProgress;
    if (event === 'job.progress' && p.jobId === job.jobId && (opts.show?.(p, verbose) ?? true))
      ctx.progress(progressLine(p));
  });
  const offInterrupt = ctx.onInterrupt(
    () => void app.handlers['jobs.cancel']({ jobId: job.jobId }),
    opts.cancelNote ?? 'cancelling…',
  );
  try {
    const finished = await app.waitForJob(job.jobId);
    if (finished.state !== 'succeeded')
      throw new CliError(`${opts.label} ${finished.state}${finished.error ? `: ${finished.error}` : ''}`);
    return finished as JobFinished & { result: R };
  } finally {
    off();
    offInterrupt();
  }
}
