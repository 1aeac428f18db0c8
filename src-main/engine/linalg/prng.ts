// Seeded PRNGs, pure 32-bit integer arithmetic so a seed gives the same stream on every platform.
// xoshiro128** (Blackman & Vigna, state seeded from a 32-bit integer with SplitMix32) is the
// engine's; mulberry32, whose whole state is one integer, is the tiny-model trainer's.
export interface Prng {
  /** uniform in [0, 1) with 32 random bits */
  next(): number;
  /** uniform integer in [0, n) (n ≤ 2^32), rejection-sampled so it is unbiased */
  int(n: number): number;
  /** standard normal (Box–Muller) */
  gaussian(): number;
}

export function xoshiro128ss(seed: number): Prng {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return xoshiro128ssFromState(split(), split(), split(), split());
}

/** The generator from a raw 128-bit state (not all zero); exposed to pin it against the reference C code. */
export function xoshiro128ssFromState(a: number, b: number, c: number, d: number): Prng & { u32(): number } {
  const u32 = () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  let spare: number | null = null;
  const next = () => u32() / 4294967296;
  return {
    u32,
    next,
    int(n: number): number {
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const v = u32();
        if (v < limit) return v % n;
      }
    },
    gaussian(): number {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}

/**
 * mulberry32 with Box–Muller normals. Its state is one 32-bit integer (`state`), so a training
 * checkpoint saves and restores the stream exactly. The trainer (scripts/train) draws from it: the
 * shipped tiny models replay bit-for-bit from their seed only with this exact stream.
 */
export class Mulberry32 {
  state: number;
  constructor(state: number) {
    this.state = state >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) (floor of a uniform; the trainer's batch draws depend on exactly this) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  normals(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
}
