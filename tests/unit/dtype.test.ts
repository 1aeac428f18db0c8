import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src-main/engine/tensor/dtype';

const bitsOf = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
const fromBits = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);
const allPatterns = () => {
  const a = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) a[i] = i;
  return a;
};

describe('bf16', () => {
  it('decodes known vectors', () => {
    const out = bf16ToF32(new Uint16Array([0x3f80, 0xc000, 0x0000, 0x8000, 0x7f80, 0xff80, 0x4049, 0x0001]));
    expect(Array.from(out.subarray(0, 7))).toEqual([1, -2, 0, -0, Infinity, -Infinity, 3.140625]);
    expect(Object.is(out[3], -0)).toBe(true);
    expect(bitsOf(out)[7]).toBe(0x00010000); // smallest bf16 subnormal
  });

  it('round-trips all 65536 patterns bit-exactly (NaNs included)', () => {
    const src = allPatterns();
    const back = f32ToBf16(bf16ToF32(src));
    expect(Buffer.from(back.buffer).equals(Buffer.from(src.buffer))).toBe(true);
  });

  it('decodes odd lengths and unaligned sources the same as the scalar rule', () => {
    const buf = new Uint8Array(2 + 2 * 7);
    const src = new Uint16Array(buf.buffer, 2, 7); // byteOffset 2: not 4-aligned
    for (let i = 0; i < 7; i++) src[i] = 0x3f80 + i * 0x111;
    const out = bf16ToF32(src);
    expect(bitsOf(out)).toEqual(Array.from(src, (v) => v << 16));
  });

  it('expands in place when the source lies in the upper half of the destination', () => {
    const n = 9;
    const out = new Float32Array(n);
    const src = new Uint16Array(out.buffer, 2 * n, n);
    const vals = Array.from({ length: n }, (_, i) => 0x4000 + 37 * i);
    src.set(vals);
    bf16ToF32(src, out);
    expect(bitsOf(out)).toEqual(vals.map((v) => v << 16));
  });

  it('rounds to nearest even', () => {
    const b = f32ToBf16(
      fromBits([0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0x7f7fffff, 0xbf808000, 0x00000001]),
    );
    // tie->even(0x3f80), tie->even(0x3f82), above tie->up, below tie->down, max f32->inf, sign kept, tiny->0
    expect(Array.from(b)).toEqual([0x3f80, 0x3f82, 0x3f81, 0x3f80, 0x7f80, 0xbf80, 0x0000]);
  });

  it('keeps NaN as NaN, never inf', () => {
    const b = f32ToBf16(fromBits([0x7fc00000, 0x7f800001, 0xff800001, 0x7fa00000]));
    expect(Array.from(b)).toEqual([0x7fc0, 0x7fc0, 0xffc0, 0x7fa0]);
  });
});

describe('f16', () => {
  it('decodes known vectors', () => {
    const out = f16ToF32(
      new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x8000, 0x3555]),
    );
    expect(Array.from(out)).toEqual([
      1,
      -2,
      65504,
      2 ** -14,
      2 ** -24,
      1023 * 2 ** -24,
      Infinity,
      -Infinity,
      -0,
      Math.fround(0.333251953125),
    ]);
    expect(Number.isNaN(f16ToF32(new Uint16Array([0x7e00]))[0])).toBe(true);
  });

  it('round-trips all 65536 patterns bit-exactly (NaN payloads included)', () => {
    const src = allPatterns();
    const back = f32ToF16(f16ToF32(src));
    expect(Buffer.from(back.buffer).equals(Buffer.from(src.buffer))).toBe(true);
  });

  it('encodes known vectors with RNE, subnormals, overflow', () => {
    const x = [
      1,
      65504,
      65519.99,
      65520,
      1e6,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      3 * 2 ** -25,
      2 ** -14,
      0.1,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      -0,
    ];
    const h = Array.from(f32ToF16(new Float32Array(x)));
    expect(h).toEqual([
      0x3c00, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0x0001, 0x0000, 0x0001, 0x0002, 0x0400, 0x2e66, 0x3c00, 0x3c02,
      0x8000,
    ]);
    expect(Array.from(f32ToF16(fromBits([0x7fc00000, 0x7f800001])))).toEqual([0x7e00, 0x7e00]);
  });

  it('picks the nearest representable half (ties to even) for random f32 in range', () => {
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const n = 20000;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (rand() - 0.5) * 2 ** (Math.floor(rand() * 44) - 28);
    const h = f32ToF16(x);
    const dec = (v: number) => f16ToF32(new Uint16Array([v]))[0]!;
    for (let i = 0; i < n; i++) {
      const v = h[i]!;
      const got = dec(v);
      const err = Math.abs(x[i]! - got);
      for (const nb of [v - 1, v + 1]) {
        if ((nb & 0x7fff) > 0x7bff || nb < 0 || nb > 0xffff || (nb & 0x8000) !== (v & 0x8000)) continue;
        const e2 = Math.abs(x[i]! - dec(nb));
        expect(err <= e2).toBe(true);
        if (err === e2) expect(v & 1).toBe(0);
      }
    }
  });

  it('rejects a destination of the wrong length', () => {
    expect(() => f16ToF32(new Uint16Array(3), new Float32Array(2))).toThrow(/destination/);
  });
});
