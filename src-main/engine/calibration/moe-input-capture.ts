// One layer's calibration sweep kept for expert-by-expert statistics: per executor token chunk, the
// MoE input rows x (the post-attention-norm hidden states every expert of the chunk sees) and each
// token's top-k experts. Instead of one Gram pair per expert for the whole layer at once, the
// capture holds n·h floats per chunk; a later pass per expert rebuilds its routed rows X_e from it
// (routedStatistics). Chunks stay in memory up to a byte budget; the rest is written to disk, one
// f32 file per chunk, and read back on demand. The executor sends no event with a chunk's x, but
// every token reaches at least one expert, whose input rows are exact copies of x: the rows are
// filled from the onExpert events (only while some row of the event is still missing).
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import type { ExpertEvent, LayerObserver, RouterEvent } from '../model/types';

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
  filled: Uint8Array;
  missing: number;
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
    const obs: LayerObserver = { onRouter: (e) => this.onRouter(e) };
    if (this.opts.keepInputs) obs.onExpert = (e) => this.onExpert(e);
    return obs;
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
    this.pending = { rowStart: e.rowStart, chunk, filled: new Uint8Array(n), missing: n };
  }

  private onExpert(e: ExpertEvent): void {
    if (e.layer !== this.layer || e.allTokens) return;
    const p = this.pending;
    if (!p || p.missing === 0) return;
    const local = Int32Array.from(e.rows, (r) => r - p.rowStart);
    if (local.every((t) => p.filled[t] === 1)) return;
    const h = this.hidden;
    const data = e.input.dataSync() as Float32Array;
    const x = p.chunk.x!;
    local.forEach((t, i) => {
      if (t < 0 || t >= p.chunk.n) {
        throw new EngineError(`expert ${e.expert} row ${t} lies outside its chunk of ${p.chunk.n} tokens`, {
          file: FILE,
          field: 'rows',
        });
      }
      if (p.filled[t] === 1) return;
      x.set(data.subarray(i * h, (i + 1) * h), t * h);
      p.filled[t] = 1;
      p.missing--;
    });
  }

  /** Ends the open chunk (at the next router event and after the sweep). */
  private seal(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (this.opts.keepInputs && p.missing > 0) {
      throw new EngineError(
        `${p.missing} of ${p.chunk.n} tokens of a layer ${this.layer} chunk reached no expert, so their MoE inputs were never seen`,
        { file: FILE, field: 'onExpert' },
      );
    }
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
