// Embedding lookup that reads only the rows a batch needs straight from the safetensors file, so a
// 150k-token vocabulary never has to be decoded in full for each batch.
import fs from 'node:fs';
import type { Checkpoint } from '../io/checkpoint';
import { bf16ToF32, f16ToF32 } from '../tensor/dtype';

const ELEM_BYTES: Record<string, number> = { F32: 4, BF16: 2, F16: 2 };

/** Rows `ids` of the 2-D tensor `name`, as one [ids.length, cols] f32 array. */
export function readRows(ck: Checkpoint, name: string, ids: ArrayLike<number>): Float32Array {
  const info = ck.info(name);
  const cols = info.shape[1]!;
  const eb = ELEM_BYTES[info.dtype];
  if (eb === undefined || info.shape.length !== 2) {
    // Unusual dtype or layout: fall back to decoding the whole tensor.
    const all = ck.readF32(name);
    const out = new Float32Array(ids.length * cols);
    for (let i = 0; i < ids.length; i++)
      out.set(all.subarray(ids[i]! * cols, (ids[i]! + 1) * cols), i * cols);
    return out;
  }
  const out = new Float32Array(ids.length * cols);
  const unique = [...new Set(Array.from(ids))].sort((a, b) => a - b);
  const rowBytes = cols * eb;
  const buf = new Uint8Array(rowBytes);
  const decoded = new Map<number, Float32Array>();
  const fd = fs.openSync(info.file, 'r');
  try {
    for (const id of unique) {
      const got = fs.readSync(fd, buf, 0, rowBytes, info.byteOffset + id * rowBytes);
      if (got !== rowBytes) throw new RangeError(`${info.file}: short read of row ${id} of '${name}'`);
      const copy = buf.slice();
      decoded.set(
        id,
        info.dtype === 'F32'
          ? new Float32Array(copy.buffer)
          : info.dtype === 'BF16'
            ? bf16ToF32(new Uint16Array(copy.buffer))
            : f16ToF32(new Uint16Array(copy.buffer)),
      );
    }
  } finally {
    fs.closeSync(fd);
  }
  for (let i = 0; i < ids.length; i++) out.set(decoded.get(ids[i]!)!, i * cols);
  return out;
}
