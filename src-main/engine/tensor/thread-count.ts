// How many compute threads to use (MOE_THREADS, else the cores available, capped): read by the wasm
// backend for XNNPACK's pool and by the planners that size what runs beside it. No tfjs here, so
// the declarations and pre-flight can ask too.
import os from 'node:os';
import { EngineError } from '../errors';

/** Upper bound of the default thread count: XNNPACK's GEMMs stop scaling well past this. */
export const DEFAULT_MAX_THREADS = 8;
/** Threads wanted: MOE_THREADS, else the available parallelism capped at DEFAULT_MAX_THREADS. */
export function wantedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MOE_THREADS;
  if (raw === undefined || raw.trim() === '')
    return Math.max(1, Math.min(DEFAULT_MAX_THREADS, os.availableParallelism()));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new EngineError(`MOE_THREADS is '${raw}'; expected an integer from 1 to 64`, {
      field: 'MOE_THREADS',
      hint: 'unset it to use the available cores (at most 8), or 1 for the single-threaded build',
    });
  return n;
}
