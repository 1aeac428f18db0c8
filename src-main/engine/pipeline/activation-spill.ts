// Calibration hidden states of a run (one [batch·seqLen, hidden] f32 tensor per calibration batch),
// kept in memory up to a byte budget; the batches beyond it live in f32 files in the work folder and
// are read back one at a time, so the calibration set is bounded by disk, not RAM. The round trip
// is exact (raw f32 bytes), so a spilled run is bit-identical to an in-memory one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../errors';
import type { HiddenBatch } from '../model/executor';
import type { Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';

export const ACTIVATION_BUDGET_ENV = 'MOE_ACTIVATION_BUDGET_MB';

/** The budget: `MOE_ACTIVATION_BUDGET_MB` when set, else a quarter of the machine's memory. */
export function activationBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[ACTIVATION_BUDGET_ENV];
  if (raw === undefined || raw.trim() === '') return Math.floor(os.totalmem() / 4);
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0)
    throw new EngineError(`${ACTIVATION_BUDGET_ENV}=${JSON.stringify(raw)} is not a number of MiB ≥ 0`, {
      field: ACTIVATION_BUDGET_ENV,
      hint: 'e.g. 4096 keeps up to 4 GiB of calibration activations in memory; 0 spills every batch to disk',
    });
  return Math.floor(mb * 2 ** 20);
}

type Held = { tensor: Tensor2D } | { file: string; rows: number; cols: number };

interface Slot {
  batch: number;
  seqLen: number;
  held: Held;
}

export class CalibrationActivations {
  readonly #dir: string;
  readonly #budget: number;
  #slots: Slot[] = [];
  #residentBytes = 0;
  /** batches written to disk since the last reset (what the run reports) */
  spilled = 0;

  constructor(dir: string, budgetBytes: number) {
    this.#dir = dir;
    this.#budget = budgetBytes;
  }

  get length(): number {
    return this.#slots.length;
  }

  /** Takes ownership of the batch's tensor: kept if it fits the budget, else written out and freed. */
  push(b: HiddenBatch): void {
    const bytes = b.hidden.size * 4;
    let held: Held;
    if (this.#residentBytes + bytes <= this.#budget) {
      this.#residentBytes += bytes;
      held = { tensor: b.hidden };
    } else {
      const file = path.join(this.#dir, `batch-${String(this.#slots.length).padStart(5, '0')}.f32`);
      held = this.#write(file, b.hidden);
      this.spilled++;
    }
    this.#slots.push({ batch: b.batch, seqLen: b.seqLen, held });
  }

  /** Batch i for reading; `release` frees what was read back from disk (a resident batch stays). */
  read(i: number): { batch: HiddenBatch; release(): void } {
    const s = this.#slots[i]!;
    if ('tensor' in s.held)
      return { batch: { hidden: s.held.tensor, batch: s.batch, seqLen: s.seqLen }, release() {} };
    const t = this.#readFile(s.held);
    return { batch: { hidden: t, batch: s.batch, seqLen: s.seqLen }, release: () => t.dispose() };
  }

  /** Batch i becomes `hidden` (same shape; ownership taken), where batch i was held. */
  replace(i: number, hidden: Tensor2D): void {
    const s = this.#slots[i]!;
    if ('tensor' in s.held) {
      s.held.tensor.dispose();
      s.held = { tensor: hidden };
    } else {
      s.held = this.#write(s.held.file, hidden);
    }
  }

  /** Free every batch (tensors and files). */
  reset(): void {
    for (const s of this.#slots) if ('tensor' in s.held) s.held.tensor.dispose();
    this.#slots = [];
    this.#residentBytes = 0;
    this.spilled = 0;
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }

  #write(file: string, t: Tensor2D): Held {
    const [rows, cols] = t.shape;
    try {
      const data = t.dataSync() as Float32Array;
      fs.mkdirSync(this.#dir, { recursive: true });
      fs.writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (e) {
      throw new EngineError(`could not write calibration activations (${(e as Error).message})`, {
        file,
        field: ACTIVATION_BUDGET_ENV,
        hint: 'free disk space in the work folder, or raise the budget to keep more batches in memory',
      });
    } finally {
      t.dispose();
    }
    return { file, rows, cols };
  }

  #readFile(h: { file: string; rows: number; cols: number }): Tensor2D {
    const data = new Float32Array(h.rows * h.cols);
    const fd = fs.openSync(h.file, 'r');
    try {
      const bytes = new Uint8Array(data.buffer);
      let off = 0;
      while (off < bytes.length) {
        const n = fs.readSync(fd, bytes, off, bytes.length - off, off);
        if (n === 0)
          throw new EngineError(
            `calibration activations file is truncated at ${off} of ${bytes.length} bytes`,
            {
              file: h.file,
              field: 'workDir',
              hint: 'another process removed or cut the work folder; rerun',
            },
          );
        off += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return tf.tensor2d(data, [h.rows, h.cols]);
  }
}
