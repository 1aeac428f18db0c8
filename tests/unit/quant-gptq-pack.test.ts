// GPTQ packing (methods/quant/gptq-pack.ts): the AutoGPTQ bit order on known words, pack → unpack
// returning the stored integer codes and zero points for 4/8 bits, group sizes 32/64/128/−1 and
// act-order g_idx (ragged widths zero-padded), v1's z − 1 convention (and its refusal of z = 0), and
// the packed bytes equal to quantMatrixBytes.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { GROUP_SIZES, quantGroups, quantMatrixBytes } from '../../src-main/engine/methods/quant/accounting';
import { packGptq, trivialGIdx, unpackGptq, v1Holds } from '../../src-main/engine/methods/quant/gptq-pack';
import {
  dequantize,
  type QuantizedWeight,
  quantizedWeight,
} from '../../src-main/engine/methods/quant/quantized-weight';
import { quantGrid, rtnQuantize } from '../../src-main/engine/methods/quant/quantizer';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

/** An RTN-quantized random [out, in] matrix; with act-order its columns' groups are shuffled. */
function sample(
  out: number,
  inp: number,
  bits: 4 | 8,
  groupSize: number,
  symmetric: boolean,
  actOrder: boolean,
  seed: number,
): QuantizedWeight {
  const r = rng(seed);
  const W = Float32Array.from({ length: out * inp }, () => (r() - 0.5) * 0.2 + (r() < 0.05 ? 0.5 : 0));
  const m = rtnQuantize(W, out, inp, quantGrid(bits, symmetric), groupSize);
  const q = quantizedWeight(m, { bits, groupSize, symmetric, actOrder, outFeatures: out, inFeatures: inp });
  if (actOrder) {
    const g = Array.from(q.gIdx);
    for (let i = g.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [g[i], g[j]] = [g[j]!, g[i]!];
    }
    q.gIdx = Int32Array.from(g);
  }
  return q;
}

/** Index of the first difference of two typed arrays, −1 when equal (toEqual is slow on long arrays). */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const sumBytes = (t: ReturnType<typeof packGptq>) =>
  4 * t.qweight.length + 4 * t.qzeros.length + 2 * t.scales.length + 4 * t.gIdx.length;

describe('AutoGPTQ bit order', () => {
  const one = (bits: 4 | 8, codes: number[], zeros: number[], out = 1): QuantizedWeight => ({
    bits,
    groupSize: -1,
    symmetric: false,
    actOrder: false,
    outFeatures: out,
    inFeatures: codes.length / out,
    codes: Uint8Array.from(codes),
    scales: new Float32Array(out).fill(0.5),
    zeros: Int32Array.from(zeros),
    gIdx: new Int32Array(codes.length / out),
  });

  it('4 bits: input column j of a word sits at bits 4·(j mod 8), the first lowest', () => {
    const t = packGptq(one(4, [0, 1, 2, 3, 4, 5, 6, 7], [8]), 'gptq_v2');
    expect(t.qweight[0]! >>> 0).toBe(0x76543210);
    expect(t.shapes.qweight).toEqual([1, 1]);
    // 15 in the top nibble is a negative int32, as torch stores it
    const hi = packGptq(one(4, [0, 0, 0, 0, 0, 0, 0, 15], [1]), 'gptq');
    expect(hi.qweight[0]).toBe(0xf0000000 | 0);
  });

  it('8 bits: four codes per word; qweight is [in/4, out], input-major', () => {
    // out = 2, in = 4: row 0 = 1 2 3 4, row 1 = 5 6 7 8
    const t = packGptq(one(8, [1, 2, 3, 4, 5, 6, 7, 8], [9, 9], 2), 'gptq_v2');
    expect(t.shapes.qweight).toEqual([1, 2]);
    expect(t.qweight[0]! >>> 0).toBe(0x04030201);
    expect(t.qweight[1]! >>> 0).toBe(0x08070605);
  });

  it('qzeros pack along the output dimension; v1 stores z − 1, v2 z', () => {
    // out = 8 outputs, one input column: zeros 1..8
    const q = one(4, [0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8], 8);
    expect(packGptq(q, 'gptq').qzeros[0]! >>> 0).toBe(0x76543210);
    expect(packGptq(q, 'gptq_v2').qzeros[0]! >>> 0).toBe(0x87654321);
    // the symmetric int4 zero 8 is the familiar 0x77777777 of v1 checkpoints
    expect(packGptq(one(4, new Array(8).fill(0), new Array(8).fill(8), 8), 'gptq').qzeros[0]! >>> 0).toBe(
      0x77777777,
    );
  });

  it('v1 refuses a zero point of 0 (it cannot store −1); v2 stores it', () => {
    const q = one(4, [3, 0, 0, 0, 0, 0, 0, 0], [0]);
    expect(v1Holds(q)).toBe(false);
    expect(() => packGptq(q, 'gptq')).toThrow(EngineError);
    expect(() => packGptq(q, 'gptq')).toThrow(/checkpoint_format "gptq"/);
    const back = unpackGptq(packGptq(q, 'gptq_v2'), { ...q, format: 'gptq_v2' });
    expect(Array.from(back.zeros)).toEqual([0]);
  });
});

describe('pack → unpack returns the stored integers', () => {
  const cases: [number, number][] = [
    [24, 256],
    [40, 384],
    [12, 100], // ragged: in and out not multiples of 8 (zero-padded words)
  ];
  for (const bits of [4, 8] as const)
    for (const gs of GROUP_SIZES)
      for (const actOrder of [false, true])
        for (const symmetric of [true, false])
          it(`int${bits} g${gs}${actOrder ? ' act-order' : ''} ${symmetric ? 'sym' : 'asym'}`, () => {
            cases.forEach(([out, inp], k) => {
              const q = sample(out, inp, bits, gs, symmetric, actOrder, 1000 * bits + 10 * k + gs);
              const format = v1Holds(q) ? 'gptq' : 'gptq_v2';
              if (symmetric) expect(format).toBe('gptq'); // the symmetric zero 2^(bits−1) always fits v1
              const t = packGptq(q, format);
              const G = quantGroups(inp, gs);
              expect(t.shapes).toEqual({
                qweight: [Math.ceil(inp / (32 / bits)), out],
                qzeros: [G, Math.ceil(out / (32 / bits))],
                scales: [G, out],
                gIdx: [inp],
              });
              expect(t.qweight.length).toBe(t.shapes.qweight[0] * t.shapes.qweight[1]);
              expect(t.qzeros.length).toBe(t.shapes.qzeros[0] * t.shapes.qzeros[1]);
              expect(sumBytes(t)).toBe(quantMatrixBytes(out, inp, bits, gs));
              const back = unpackGptq(t, { ...q, format });
              expect(firstDiff(back.codes, q.codes)).toBe(-1);
              expect(firstDiff(back.zeros, q.zeros)).toBe(-1);
              expect(firstDiff(back.gIdx, q.gIdx)).toBe(-1);
              expect(firstDiff(back.scales, q.scales)).toBe(-1);
              expect(trivialGIdx(back)).toBe(!actOrder || G === 1);
              // the weights the forward pass uses are the same bits
              expect(firstDiff(dequantize(back), dequantize(q))).toBe(-1);
            });
          });

  it('v1 and v2 differ only in the stored zero points', () => {
    const q = sample(16, 128, 4, 32, true, false, 7);
    const a = packGptq(q, 'gptq');
    const b = packGptq(q, 'gptq_v2');
    expect(a.qweight).toEqual(b.qweight);
    expect(a.qzeros).not.toEqual(b.qzeros);
    expect(unpackGptq(a, { ...q, format: 'gptq' }).zeros).toEqual(
      unpackGptq(b, { ...q, format: 'gptq_v2' }).zeros,
    );
  });

  it('a wrong tensor size is an error', () => {
    const q = sample(8, 64, 4, 32, true, false, 3);
    const t = packGptq(q, 'gptq');
    expect(() => unpackGptq({ ...t, qweight: t.qweight.subarray(1) }, { ...q, format: 'gptq' })).toThrow(
      /qweight has/,
    );
  });
});
