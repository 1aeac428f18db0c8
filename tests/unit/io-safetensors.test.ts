import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { writeSafetensors } from '../../src-main/engine/io/safetensors-writer';
import { f32ToBf16, f32ToF16 } from '../../src-main/engine/tensor/dtype';
import { f32Bytes, rawSafetensors, tempDir, writeFile } from './io-helpers';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('SafetensorsFile (hand-built file)', () => {
  const w = f32Bytes([1, 2, 3, 4, 5, 6]);
  const b = new Uint8Array(f32ToBf16(new Float32Array([0.5, -1.25, 3.140625])).buffer);
  const h = new Uint8Array(f32ToF16(new Float32Array([65504, 2 ** -24])).buffer);
  const d = new Uint8Array(new Float64Array([1 / 3]).buffer);
  const i = new Uint8Array(new Int32Array([7, -8]).buffer);
  const header = {
    __metadata__: { format: 'pt', note: 'x' },
    d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
    w: { dtype: 'F32', shape: [2, 3], data_offsets: [8, 32] },
    i: { dtype: 'I32', shape: [2], data_offsets: [32, 40] },
    b: { dtype: 'BF16', shape: [3], data_offsets: [40, 46] },
    h: { dtype: 'F16', shape: [2], data_offsets: [46, 50] },
    e: { dtype: 'F32', shape: [0, 4], data_offsets: [50, 50] },
  };
  const file = writeFile(dir, 'hand.safetensors', rawSafetensors(header, concat(d, w, i, b, h)));
  const jsonLen = JSON.stringify(header).length;

  it('parses names, metadata and absolute byte ranges', () => {
    const f = SafetensorsFile.open(file);
    expect(f.path).toBe(path.resolve(file));
    expect(f.names()).toEqual(['d', 'w', 'i', 'b', 'h', 'e']);
    expect(f.metadata).toEqual({ format: 'pt', note: 'x' });
    expect(f.has('w')).toBe(true);
    expect(f.has('__metadata__')).toBe(false);
    expect(f.info('w')).toEqual({
      name: 'w',
      dtype: 'F32',
      shape: [2, 3],
      file: path.resolve(file),
      byteOffset: 8 + jsonLen + 8,
      byteLength: 24,
    });
    f.close();
  });

  it('decodes every float dtype exactly', () => {
    const f = SafetensorsFile.open(file);
    expect(Array.from(f.readF32('w'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(f.readF32('b'))).toEqual([0.5, -1.25, 3.140625]);
    expect(Array.from(f.readF32('h'))).toEqual([65504, 2 ** -24]);
    expect(f.readF32('d')[0]).toBe(Math.fround(1 / 3));
    expect(f.readF32('e').length).toBe(0);
    expect(Array.from(new Int32Array(f.readRaw('i').buffer))).toEqual([7, -8]);
    f.close();
  });

  it('refuses readF32 on an integer tensor, naming file and tensor', () => {
    const f = SafetensorsFile.open(file);
    expect(() => f.readF32('i')).toThrow(/hand\.safetensors.*tensor 'i'.*I32 is not a float type/);
    expect(() => f.info('nope')).toThrow(/hand\.safetensors.*no tensor named 'nope'/);
    f.close();
    expect(() => f.readRaw('w')).toThrow(/closed/);
  });
});

describe('SafetensorsFile on a larger bf16 tensor (paired + in-place decode path)', () => {
  it('matches a scalar reference bit for bit', () => {
    const n = 100_001; // odd: exercises the tail
    const src = new Uint16Array(n);
    let s = 7;
    for (let k = 0; k < n; k++) {
      s = (Math.imul(s, 48271) + 11) >>> 0;
      src[k] = s >>> 16;
      // readF32 refuses NaN/Inf (malformed-inputs.test.ts): keep every pattern finite
      if ((src[k]! & 0x7f80) === 0x7f80) src[k] = src[k]! & ~0x0080;
    }
    const file = writeFile(
      dir,
      'big.safetensors',
      rawSafetensors(
        { t: { dtype: 'BF16', shape: [n], data_offsets: [0, 2 * n] } },
        new Uint8Array(src.buffer),
      ),
    );
    const f = SafetensorsFile.open(file);
    const got = new Uint32Array(f.readF32('t').buffer);
    f.close();
    let mismatches = 0;
    for (let k = 0; k < n; k++) if (got[k] !== (src[k]! << 16) >>> 0) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('writeSafetensors', () => {
  it('writes the header the reference way: 8-byte aligned, space padded, format metadata', () => {
    const file = path.join(dir, 'w.safetensors');
    const { bytes } = writeSafetensors(file, [
      { name: 'a', dtype: 'F32', shape: [3], data: () => new Float32Array([1, 2, 3]) },
    ]);
    const buf = fs.readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = buf.subarray(8, 8 + n).toString('utf8');
    expect(JSON.parse(text)).toEqual({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
    });
    expect(text).toMatch(/^\{.*\} *$/);
    expect(bytes).toBe(buf.length);
    expect(buf.length).toBe(8 + n + 12);
    expect(fs.readdirSync(dir).some((f) => f.includes('.tmp-'))).toBe(false);
  });

  it('round-trips through the reader, wider dtypes first, producers called once in layout order', () => {
    const file = path.join(dir, 'rt.safetensors');
    const calls: string[] = [];
    const vals = (k: number) => Float32Array.from({ length: 6 }, (_, j) => (j - 2.5) * (k + 1) * 0.375);
    const producer = (name: string, k: number) => () => {
      calls.push(name);
      return vals(k);
    };
    writeSafetensors(
      file,
      [
        { name: 'x.bf16', dtype: 'BF16', shape: [2, 3], data: producer('x.bf16', 0) },
        { name: 'y.f32', dtype: 'F32', shape: [6], data: producer('y.f32', 1) },
        { name: 'z.f16', dtype: 'F16', shape: [3, 2], data: producer('z.f16', 2) },
      ],
      { step: 'test' },
    );
    expect(calls).toEqual(['y.f32', 'x.bf16', 'z.f16']);
    const f = SafetensorsFile.open(file);
    expect(f.metadata).toEqual({ format: 'pt', step: 'test' });
    for (const [name, k] of [
      ['x.bf16', 0],
      ['y.f32', 1],
      ['z.f16', 2],
    ] as const) {
      expect(Array.from(f.readF32(name))).toEqual(Array.from(vals(k))); // values exactly representable
      expect((f.info(name).byteOffset - f.info('y.f32').byteOffset) % 2).toBe(0);
    }
    f.close();
  });

  it('rounds to the target dtype with RNE when writing', () => {
    const file = path.join(dir, 'rne.safetensors');
    const x = new Float32Array(new Uint32Array([0x3f808000, 0x3f818000]).buffer);
    writeSafetensors(file, [{ name: 't', dtype: 'BF16', shape: [2], data: () => x }]);
    const f = SafetensorsFile.open(file);
    expect(Array.from(new Uint16Array(f.readRaw('t').buffer))).toEqual([0x3f80, 0x3f82]);
    f.close();
  });
});
