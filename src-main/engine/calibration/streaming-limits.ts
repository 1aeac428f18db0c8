// Sizes of the expert-by-expert calibration schedule, in one tfjs-free place: the capture and the
// per-expert statistics use them, and the memory pre-flight counts the same numbers.
import { EngineError } from '../errors';

const FILE = 'engine/calibration/streaming-limits';

/** most routed rows of one (chunk, expert) event: the executor's default token chunk */
export const EVENT_ROWS = 1024;

/** one column block of a Gram product (the f32 result and its host read-back) */
export const GRAM_BLOCK_BYTES = 64 * 2 ** 20;

/** default in-memory part of a layer's calibration capture; the rest spills to disk */
export const DEFAULT_CAPTURE_BUDGET_BYTES = 2 ** 30;

/** Columns of a d×d Gram built per product so one block stays within GRAM_BLOCK_BYTES. */
export function gramBlockCols(dim: number): number {
  return Math.max(1, Math.min(dim, Math.floor(GRAM_BLOCK_BYTES / (4 * dim))));
}

/** Bytes of the capture held in memory: MOE_CAPTURE_BUDGET_MB when set, else 1 GiB. */
export function captureBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MOE_CAPTURE_BUDGET_MB;
  if (raw === undefined || raw === '') return DEFAULT_CAPTURE_BUDGET_BYTES;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new EngineError(`must be a number of MiB ≥ 0, got '${raw}'`, {
      file: FILE,
      field: 'MOE_CAPTURE_BUDGET_MB',
      hint: 'unset it for the 1024 MiB default; 0 spills every calibration chunk to disk',
    });
  }
  return Math.floor(mb * 2 ** 20);
}
