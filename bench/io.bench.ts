// Engine I/O throughput: bf16/f16 -> f32 decode (GB/s of f32 produced) and safetensors reads of a
// 64 MB tensor (GB/s of f32 returned; the file is freshly written so it sits in the page cache).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SafetensorsFile } from '../src-main/engine/io/safetensors';
import { writeSafetensors } from '../src-main/engine/io/safetensors-writer';
import { bf16ToF32, f16ToF32, f32ToBf16 } from '../src-main/engine/tensor/dtype';

function bestOf(reps: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000;
}

const gbps = (bytes: number, s: number) => Number((bytes / s / 1e9).toFixed(2));

export async function run(): Promise<Record<string, number | string>> {
  const n = 16 * 1024 * 1024; // 16M values: 64 MB as f32, 32 MB as bf16
  const src16 = new Uint16Array(n);
  for (let i = 0; i < n; i++) src16[i] = (i * 40503) & 0x7fff;
  const dst = new Float32Array(n);
  const bf16Decode = bestOf(5, () => bf16ToF32(src16, dst));
  const f16Decode = bestOf(5, () => f16ToF32(src16, dst));
  const values = bf16ToF32(src16);
  const bf16Encode = bestOf(3, () => f32ToBf16(values));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-io-'));
  try {
    const file = path.join(dir, 't.safetensors');
    writeSafetensors(file, [
      { name: 'f32', dtype: 'F32', shape: [4096, 4096], data: () => values },
      { name: 'bf16', dtype: 'BF16', shape: [4096, 4096], data: () => values },
    ]);
    const f = SafetensorsFile.open(file);
    const readF32 = bestOf(5, () => f.readF32('f32'));
    const readBf16 = bestOf(5, () => f.readF32('bf16'));
    f.close();
    const writeBf16 = bestOf(3, () =>
      writeSafetensors(path.join(dir, 'w.safetensors'), [
        { name: 'w', dtype: 'BF16', shape: [4096, 4096], data: () => values },
      ]),
    );
    return {
      bf16DecodeGBps: gbps(4 * n, bf16Decode),
      f16DecodeGBps: gbps(4 * n, f16Decode),
      bf16EncodeGBps: gbps(4 * n, bf16Encode),
      readF32Tensor64MBGBps: gbps(4 * n, readF32),
      readBf16Tensor64MBGBps: gbps(4 * n, readBf16),
      writeBf16Tensor64MBGBps: gbps(4 * n, writeBf16),
      note: 'GB/s of f32 values produced/consumed; reads hit the page cache; best of 3-5',
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
