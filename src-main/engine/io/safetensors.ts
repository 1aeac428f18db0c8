// Lazy safetensors reader: the header is parsed at open, each tensor is read on demand from its
// byte range with fs.readSync (synchronous on purpose: engine workers are threads that own the fd).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../errors';
import { allFiniteF32, bf16ToF32, type FiniteReport, f16ToF32 } from '../tensor/dtype';
import { checkHeaderLength, parseHeader, SAFETENSORS_DTYPES, type TensorInfo } from './safetensors-header';

export type { TensorInfo } from './safetensors-header';

if (os.endianness() !== 'LE') throw new Error('safetensors I/O assumes a little-endian host');

/** fs.readSync takes at most 2^31-1 bytes per call. */
const READ_CHUNK = 1 << 30;

export function readFully(fd: number, dst: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < dst.length) {
    const len = Math.min(READ_CHUNK, dst.length - done);
    const got = fs.readSync(fd, dst, done, len, position + done);
    if (got === 0) {
      throw new EngineError(`unexpected end of file at byte ${position + done}`, {
        file,
        hint: 'the file is truncated',
      });
    }
    done += got;
  }
}

export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  readonly fileSize: number;
  private readonly tensors: Map<string, TensorInfo>;
  private fd: number | null;

  private constructor(
    file: string,
    fd: number,
    fileSize: number,
    metadata: Record<string, string>,
    tensors: Map<string, TensorInfo>,
  ) {
    this.path = file;
    this.fd = fd;
    this.fileSize = fileSize;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  static open(file: string): SafetensorsFile {
    const abs = path.resolve(file);
    let fd: number;
    try {
      fd = fs.openSync(abs, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new EngineError(code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? String(e)})`, {
        file: abs,
        cause: e,
      });
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new EngineError('not a regular file', { file: abs });
      const size = stat.size;
      const prefix = new Uint8Array(Math.min(8, size));
      if (size > 0) readFully(fd, prefix, 0, abs);
      const n = checkHeaderLength(prefix, size, abs);
      const json = new Uint8Array(n);
      readFully(fd, json, 8, abs);
      const h = parseHeader(json, size, abs);
      return new SafetensorsFile(abs, fd, size, h.metadata, h.tensors);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new EngineError(`no tensor named '${name}'`, { file: this.path, field: 'tensor' });
    return t;
  }

  /** The tensor's bytes, little-endian as stored, in a fresh (8-byte aligned) buffer. */
  readRaw(name: string): Uint8Array {
    const t = this.info(name);
    const out = new Uint8Array(t.byteLength);
    readFully(this.openFd(), out, t.byteOffset, this.path);
    return out;
  }

  /**
   * The tensor decoded to f32. F32/F16/BF16 are exact; F64 is rounded to f32. Integer and BOOL
   * tensors are refused (use readRaw): silently turning ids or masks into floats hides bugs.
   */
  readF32(name: string): Float32Array {
    const t = this.info(name);
    const n = t.byteLength / SAFETENSORS_DTYPES[t.dtype];
    // a NaN/±Inf weight would turn every result computed from it into NaN: refused here, naming
    // the tensor, instead of surfacing as `ppl NaN` (found while decoding: see FiniteReport)
    const finite = (ok: boolean, out: Float32Array) => {
      if (ok) return out;
      const at = out.findIndex((x) => !Number.isFinite(x));
      throw new EngineError(
        `non-finite value ${out[at]} at element ${at} (of shape [${t.shape.join(', ')}])`,
        {
          file: this.path,
          field: `tensor '${name}'`,
          hint: 'the checkpoint is damaged or was saved after a diverged training step',
        },
      );
    };
    switch (t.dtype) {
      case 'F32': {
        const raw = this.readRaw(name);
        const out = new Float32Array(raw.buffer, 0, n);
        return finite(allFiniteF32(out), out);
      }
      case 'BF16':
      case 'F16': {
        // Read the 16-bit data into the upper half of the f32 result and expand in place: one
        // allocation, no temporary copy (matters for 0.5 GB embedding matrices).
        const out = new Float32Array(n);
        const src = new Uint16Array(out.buffer, 2 * n, n);
        readFully(this.openFd(), new Uint8Array(out.buffer, 2 * n, 2 * n), t.byteOffset, this.path);
        const report: FiniteReport = { finite: true };
        // In place is safe for f16 too: element i is read before bytes [4i, 4i+4) are written,
        // and those never reach an unread element j > i at byte 2n+2j.
        if (t.dtype === 'BF16') bf16ToF32(src, out, report);
        else f16ToF32(src, out, report);
        return finite(report.finite, out);
      }
      case 'F64': {
        const raw = this.readRaw(name);
        const out = Float32Array.from(new Float64Array(raw.buffer, 0, n));
        return finite(allFiniteF32(out), out);
      }
      default:
        throw new EngineError(`dtype ${t.dtype} is not a float type; readF32 decodes F32/F16/BF16/F64 only`, {
          file: this.path,
          field: `tensor '${name}'`,
          hint: 'use readRaw() for integer or boolean tensors',
        });
    }
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  private openFd(): number {
    if (this.fd === null) throw new EngineError('file is closed', { file: this.path });
    return this.fd;
  }
}
