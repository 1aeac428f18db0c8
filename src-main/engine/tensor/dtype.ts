// Bit-exact codecs between f32 and the 16-bit float formats found in checkpoints.
// Everything runs on integer views so NaN payloads survive: a float load/store of a signalling
// NaN may be quietened by the CPU, an integer copy never is.

// Int32 views, not Uint32: values >= 2^31 in a Uint32Array are not small integers to V8 and
// cost a heap-number conversion per element (measured ~25-70% slower).
function i32View(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

function checkDst(n: number, dst: Float32Array | undefined): Float32Array {
  if (!dst) return new Float32Array(n);
  if (dst.length !== n) throw new RangeError(`destination holds ${dst.length} values, source ${n}`);
  return dst;
}

/**
 * Set by the decoders when asked: whether every decoded value is finite. Found in the decoding
 * loop itself (a value is NaN/±Inf iff its exponent bits are all ones: `(h & E) + lowest bit of E`
 * reaches the next bit exactly then), so checking a checkpoint costs no pass of its own.
 */
export interface FiniteReport {
  finite: boolean;
}

/**
 * bf16 -> f32: a bf16 is the top half of an f32, so this is a shift. Two values are decoded per
 * 32-bit load when both arrays are 4-byte aligned (about 2x faster than one per u16 load).
 */
export function bf16ToF32(src: Uint16Array, dst?: Float32Array, report?: FiniteReport): Float32Array {
  const n = src.length;
  const out = checkDst(n, dst);
  const o = i32View(out);
  let i = 0;
  let bad = 0;
  const pairs = n >>> 1;
  if (src.byteOffset % 4 === 0 && pairedSafe(src, out, pairs)) {
    const w = new Int32Array(src.buffer, src.byteOffset, pairs);
    for (let p = 0; p < pairs; p++) {
      const v = w[p]!;
      o[2 * p] = v << 16; // little-endian: element 2p is the low half
      o[2 * p + 1] = v & -65536;
      bad |= ((v & 0x7f80) + 0x80) | (((v >>> 16) & 0x7f80) + 0x80);
    }
    i = pairs * 2;
  }
  // Tail / unaligned path; also in-place safe when `src` lives in the upper half of `out`.
  for (; i < n; i++) {
    const h = src[i]!;
    o[i] = h << 16;
    bad |= (h & 0x7f80) + 0x80;
  }
  if (report) report.finite = (bad & 0x8000) === 0;
  return out;
}

/** Whether every f32 in `a` is finite: one pass over the bits, for data read as stored (F32). */
export function allFiniteF32(a: Float32Array): boolean {
  const s = i32View(a);
  let bad = 0;
  for (let i = 0; i < s.length; i++) bad |= (s[i]! & 0x7f800000) + 0x800000;
  return (bad & 0x80000000) === 0;
}

// Pair p reads source bytes [rel+4p, rel+4p+4) and writes [8p, 8p+8) of `out`; with the source at
// or beyond byte 4*pairs of `out` no write reaches a pair not yet read.
function pairedSafe(src: Uint16Array, out: Float32Array, pairs: number): boolean {
  if (src.buffer !== out.buffer) return true;
  const rel = src.byteOffset - out.byteOffset;
  return rel >= 4 * pairs || rel + src.byteLength <= 0;
}

/** f32 -> bf16 with round-to-nearest-even; NaN stays NaN (payload truncated, quiet bit set only if needed). */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const s = i32View(src);
  const n = s.length;
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const x = s[i]!;
    if ((x & 0x7fffffff) > 0x7f800000) {
      const h = x >>> 16;
      out[i] = (h & 0x7f) === 0 ? h | 0x40 : h; // truncation alone could turn a NaN into inf
    } else {
      // Stays within int32 for every non-NaN pattern; the u16 store keeps the low 16 bits.
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >> 16;
    }
  }
  return out;
}

let f16Table: Int32Array | null = null;

function halfBitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return sign | 0x7f800000 | (mant << 13);
  if (exp !== 0) return sign | ((exp + 112) << 23) | (mant << 13);
  if (mant === 0) return sign;
  // Subnormal: normalise the mantissa into an f32 normal.
  let e = 113;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return sign | (e << 23) | ((m & 0x3ff) << 13);
}

function halfTable(): Int32Array {
  if (!f16Table) {
    f16Table = new Int32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfBitsToF32Bits(h);
  }
  return f16Table;
}

/** f16 -> f32 through a 65536-entry bit table (exact, including subnormals, inf and NaN payloads). */
export function f16ToF32(src: Uint16Array, dst?: Float32Array, report?: FiniteReport): Float32Array {
  const n = src.length;
  const out = checkDst(n, dst);
  const o = i32View(out);
  const t = halfTable();
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const h = src[i]!;
    o[i] = t[h]!;
    bad |= (h & 0x7c00) + 0x400;
  }
  if (report) report.finite = (bad & 0x8000) === 0;
  return out;
}

/** f32 -> f16 with round-to-nearest-even, gradual underflow to subnormals, overflow to inf, NaN kept. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const s = i32View(src);
  const n = s.length;
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = f32BitsToHalf(s[i]!);
  return out;
}

function f32BitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a >= 0x7f800000) {
    if (a === 0x7f800000) return sign | 0x7c00;
    const m = (a >>> 13) & 0x3ff;
    return sign | 0x7c00 | (m === 0 ? 0x200 : m);
  }
  if (a >= 0x477ff000) return sign | 0x7c00; // >= 65520 rounds (ties-to-even) past 65504
  if (a >= 0x38800000) {
    const r = a - 0x38000000; // rebias exponent 127 -> 15
    return sign | ((r + 0xfff + ((r >>> 13) & 1)) >>> 13);
  }
  if (a <= 0x33000000) return sign; // <= 2^-25: rounds to zero (2^-25 itself is a tie to even 0)
  const e = a >>> 23;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // value in units of 2^-24 is m * 2^(e-126)
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q++;
  return sign | q;
}
