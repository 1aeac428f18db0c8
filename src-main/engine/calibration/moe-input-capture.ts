// One layer's calibration sweep kept for expert-by-expert statistics: per executor token chunk, the
// MoE input rows x (the post-attention-norm hidden states every expert of the chunk sees) and each
// token's top-k experts. Instead of one Gram pair per expert for the whole layer at once, the
// capture holds n·h floats per chunk; a later pass per expert rebuilds its routed rows X_e from it
// (routedStatistics). Chunks stay in memory up to a byte budget; the rest is written to disk, one
// f32 file per chunk, and read back on demand. x comes with the router event, so the sweep can stop
// at the router (LayerSweep routerOnly): no expert needs to run for the capture.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import type { LayerObserver, RouterEvent } from '../model/types';

const FILE = 'engine/calibration/moe-input-capture';

export interface CaptureOptions {
  /** keep the rows x (false: only routing counts, e.g. vanilla SVD) */
  keepInputs: boolean;
  /** bytes of x held in memory before chunks spill to disk */
  budgetBytes: number;
  /** folder for spilled chunks (a fresh sub-folder is made in it, removed by dispose) */
  dir: string;
}

export interface CapturedChunk {
  /** tokens of the chunk */
  n: number;
  /** [n·k] expert indices, token-major (the executor's routing) */
  experts: Int32Array;
  /** [n, h] row-major MoE inputs, or null while on disk / not kept */
  x: Float32Array | null;
  /** spill file when not in memory */
  file: string | null;
}

interface Pending {
  rowStart: number;
  chunk: CapturedChunk;
}

export class MoeInputCapture {
  readonly layer: number;
  readonly hidden: number;
  /** tokens that went through the router */
  tokens = 0;
  topK = 0;
  /** per expert: routed tokens (top-k selections); sized by the router's width at its first event */
  counts: Float64Array = new Float64Array(0);
  readonly chunks: CapturedChunk[] = [];
  bytesInMemory = 0;
  bytesOnDisk = 0;
  private pending: Pending | null = null;
  private spillDir: string | null = null;
  private readonly opts: CaptureOptions;

  constructor(layer: number, hidden: number, opts: CaptureOptions) {
    this.layer = layer;
    this.hidden = hidden;
    this.opts = opts;
  }

  get keepsInputs(): boolean {
    return this.opts.keepInputs;
  }

  observer(): LayerObserver {
    return { onRouter: (e) => this.onRouter(e) };
  }

  private onRouter(e: RouterEvent): void {
    if (e.layer !== this.layer) return;
    this.seal();
    const [n, N] = e.logits.shape;
    if (this.counts.length === 0) this.counts = new Float64Array(N);
    this.tokens += n;
    this.topK = e.topK;
    for (const x of e.experts) this.counts[x]++;
    const chunk: CapturedChunk = {
      n,
      experts: Int32Array.from(e.experts),
      x: this.opts.keepInputs ? new Float32Array(n * this.hidden) : null,
      file: null,
    };
    if (chunk.x) {
      if (e.input.shape[0] !== n || e.input.shape[1] !== this.hidden)
        throw new EngineError(
          `router input is ${e.input.shape.join('x')}, expected ${n}x${this.hidden} for layer ${this.layer}`,
          { file: FILE, field: 'input' },
        );
      chunk.x.set(e.input.dataSync() as Float32Array);
    }
    this.pending = { rowStart: e.rowStart, chunk };
  }

  /** Ends the open chunk (at the next router event and after the sweep). */
  private seal(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    const c = p.chunk;
    if (c.x) {
      const bytes = c.x.byteLength;
      if (this.bytesInMemory + bytes <= this.opts.budgetBytes) this.bytesInMemory += bytes;
      else {
        if (!this.spillDir) {
          fs.mkdirSync(this.opts.dir, { recursive: true });
          this.spillDir = fs.mkdtempSync(path.join(this.opts.dir, `capture-layer${this.layer}-`));
        }
        c.file = path.join(this.spillDir, `chunk-${this.chunks.length}.f32`);
        fs.writeFileSync(c.file, new Uint8Array(c.x.buffer, c.x.byteOffset, bytes));
        this.bytesOnDisk += bytes;
        c.x = null;
      }
    }
    this.chunks.push(c);
  }

  /** Call after the sweep: closes the last chunk. */
  finish(): this {
    this.seal();
    return this;
  }

  /** The rows x of chunk i ([n, h]; read from disk when spilled — the caller drops it after use). */
  rows(i: number): Float32Array {
    const c = this.chunks[i]!;
    if (c.x) return c.x;
    if (!c.file)
      throw new EngineError('the capture kept no MoE inputs (keepInputs: false)', { file: FILE, field: 'x' });
    const out = new Float32Array(c.n * this.hidden);
    const fd = fs.openSync(c.file, 'r');
    try {
      const dst = new Uint8Array(out.buffer);
      let off = 0;
      while (off < dst.length) {
        const got = fs.readSync(fd, dst, off, dst.length - off, off);
        if (got === 0)
          throw new EngineError(`spilled chunk ends after ${off} of ${dst.length} bytes`, {
            file: c.file,
            field: 'x',
          });
        off += got;
      }
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }

  /** Token rows of chunk i routed to `expert`, ascending (the executor's order). */
  routedRows(i: number, expert: number): Int32Array {
    const c = this.chunks[i]!;
    const k = c.n > 0 ? c.experts.length / c.n : 0;
    const out: number[] = [];
    for (let t = 0; t < c.n; t++)
      for (let j = 0; j < k; j++)
        if (c.experts[t * k + j] === expert) {
          out.push(t);
          break;
        }
    return Int32Array.from(out);
  }

  /** Removes the spill files and drops the rows. */
  dispose(): void {
    for (const c of this.chunks) c.x = null;
    this.bytesInMemory = 0;
    if (this.spillDir) fs.rmSync(this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
  }
}
