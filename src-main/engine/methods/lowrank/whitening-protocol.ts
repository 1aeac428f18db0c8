// Messages between the expert loop and its whitening thread (whitening-worker.ts).
import type { Scale, WhiteningOptions } from './scaling';

export interface WhiteningRequest {
  id: number;
  dim: number;
  tokens: number;
  /** the dim×dim Gram, row-major; its buffer is transferred */
  gram: Float64Array;
  options: WhiteningOptions;
}

export type WhiteningReply =
  | { id: number; ok: true; scale: Scale }
  | { id: number; ok: false; error: { message: string; file?: string; field?: string; hint?: string } };
