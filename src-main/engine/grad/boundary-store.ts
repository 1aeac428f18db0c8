// Layer-boundary activations of the calibration batch, kept between the forward and the backward
// sweep of a layer-streamed backward pass: in memory up to a byte budget, beyond it in files of a
// temporary folder (one raw f32 file per entry, read back once and deleted).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BoundaryStoreOptions {
  /** bytes held in memory before entries go to disk (default 1 GiB; 0 = everything on disk) */
  memoryBudgetBytes?: number;
  /** parent of the spill folder (default the OS temp folder) */
  tempDir?: string;
}

export class BoundaryStore {
  private readonly mem = new Map<string, Float32Array>();
  private readonly files = new Map<string, { file: string; length: number }>();
  private memBytes = 0;
  private dir: string | null = null;
  private readonly budget: number;
  /** high-water marks, for reports */
  peakMemoryBytes = 0;
  spilledBytes = 0;

  constructor(private readonly opts: BoundaryStoreOptions = {}) {
    this.budget = opts.memoryBudgetBytes ?? 2 ** 30;
  }

  private spillDir(): string {
    if (!this.dir) {
      const parent = this.opts.tempDir ?? os.tmpdir();
      fs.mkdirSync(parent, { recursive: true });
      this.dir = fs.mkdtempSync(path.join(parent, 'moe-grad-'));
    }
    return this.dir;
  }

  /** Store a copy-free reference to `data` (the caller must not modify it afterwards). */
  put(key: string, data: Float32Array): void {
    this.delete(key);
    if (this.memBytes + data.byteLength <= this.budget) {
      this.mem.set(key, data);
      this.memBytes += data.byteLength;
      this.peakMemoryBytes = Math.max(this.peakMemoryBytes, this.memBytes);
      return;
    }
    const file = path.join(this.spillDir(), `${this.files.size}-${key.replace(/[^\w.-]/g, '_')}.f32`);
    fs.writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.files.set(key, { file, length: data.length });
    this.spilledBytes += data.byteLength;
  }

  has(key: string): boolean {
    return this.mem.has(key) || this.files.has(key);
  }

  get(key: string): Float32Array {
    const m = this.mem.get(key);
    if (m) return m;
    const f = this.files.get(key);
    if (!f) throw new Error(`boundary store: no entry '${key}'`);
    const buf = fs.readFileSync(f.file);
    const out = new Float32Array(f.length);
    new Uint8Array(out.buffer).set(buf);
    return out;
  }

  /** get + delete */
  take(key: string): Float32Array {
    const v = this.get(key);
    this.delete(key);
    return v;
  }

  delete(key: string): void {
    const m = this.mem.get(key);
    if (m) {
      this.memBytes -= m.byteLength;
      this.mem.delete(key);
    }
    const f = this.files.get(key);
    if (f) {
      fs.rmSync(f.file, { force: true });
      this.files.delete(key);
    }
  }

  /** Free everything and remove the spill folder. */
  dispose(): void {
    this.mem.clear();
    this.files.clear();
    this.memBytes = 0;
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
