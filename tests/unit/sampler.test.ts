import { describe, expect, it } from 'vitest';
import { sampleCalibration } from '../../src-main/engine/calibration/sampler';
import { xoshiro128ss, xoshiro128ssFromState } from '../../src-main/engine/linalg/prng';

const charTokens = (t: string) => Array.from(t, (c) => c.charCodeAt(0));
const wordTokens = (t: string) =>
  t
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.length);
const rows = Array.from(
  { length: 200 },
  (_, i) => `row ${i} ${'lorem ipsum dolor sit amet '.repeat(1 + (i % 5))}`,
);

describe('xoshiro128**', () => {
  it('matches the reference C implementation from state {1, 2, 3, 4}', () => {
    const g = xoshiro128ssFromState(1, 2, 3, 4);
    // first outputs of xoshiro128starstar.c (Blackman & Vigna) for s = {1, 2, 3, 4}
    expect([g.u32(), g.u32()]).toEqual([11520, 0]);
  });
  it('int(n) stays in range and gaussian has mean ≈ 0, variance ≈ 1', () => {
    const g = xoshiro128ss(7);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const v = g.int(10);
      expect(v >= 0 && v < 10 && Number.isInteger(v)).toBe(true);
      const z = g.gaussian();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.03);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.05);
  });
});

describe('sampleCalibration (SVD-LLM character-offset sampler)', () => {
  it('is deterministic per seed, exactly seqLen tokens, windows of the "\\n\\n"-joined text', () => {
    const opts = { nSamples: 6, seqLen: 32, seed: 3, tokenize: charTokens };
    const a = sampleCalibration(rows, opts);
    expect(a).toEqual(sampleCalibration(rows.join('\n\n'), opts));
    expect(a).toEqual(sampleCalibration(rows, opts));
    expect(a).not.toEqual(sampleCalibration(rows, { ...opts, seed: 4 }));
    const joined = rows.join('\n\n');
    for (const s of a) {
      expect(s).toHaveLength(32);
      expect(joined.includes(String.fromCharCode(...s))).toBe(true);
    }
  });
  it('tokenizes 10·seqLen characters from the offset and keeps the first seqLen tokens', () => {
    const seen: string[] = [];
    const tok = (t: string) => {
      seen.push(t);
      return charTokens(t);
    };
    const [s] = sampleCalibration(rows, { nSamples: 1, seqLen: 8, seed: 1, tokenize: tok });
    expect(seen[0]!.length).toBe(80);
    expect(String.fromCharCode(...s!)).toBe(seen[0]!.slice(0, 8));
  });
  it('redraws samples that come out shorter than seqLen', () => {
    // the text ends in a 4000-char word: windows landing there yield one token and are redrawn
    const text = `${'ab '.repeat(1500)}${'x'.repeat(4000)}`;
    let calls = 0;
    const tok = (t: string) => {
      calls++;
      return wordTokens(t);
    };
    const out = sampleCalibration(text, { nSamples: 20, seqLen: 10, seed: 5, tokenize: tok });
    expect(out).toHaveLength(20);
    for (const s of out) expect(s).toHaveLength(10);
    expect(calls).toBeGreaterThan(20);
  });
  it('gives up with a clear error after bounded draws, and rejects bad options', () => {
    const text = 'x'.repeat(5000);
    expect(() => sampleCalibration(text, { nSamples: 3, seqLen: 10, seed: 0, tokenize: wordTokens })).toThrow(
      /only 0 of 3 samples reached 10 tokens in 100 draws/,
    );
    expect(() =>
      sampleCalibration('short', { nSamples: 1, seqLen: 10, seed: 0, tokenize: charTokens }),
    ).toThrow(/text has 5 characters/);
    expect(() => sampleCalibration(rows, { nSamples: 0, seqLen: 10, seed: 0, tokenize: charTokens })).toThrow(
      /nSamples/,
    );
    expect(() =>
      sampleCalibration(rows, { nSamples: 1, seqLen: 2.5, seed: 0, tokenize: charTokens }),
    ).toThrow(/seqLen/);
  });
});
