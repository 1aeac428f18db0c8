// The AutoGPTQ / Hugging Face GPTQ tensor layout of one quantized linear [out, in] (no tfjs), and its
// inverse. Packing as AutoGPTQ `QuantLinear.pack` (qlinear_cuda_old.py) for 4 and 8 bits, p = 32/bits
// codes per int32 word, the lowest bits holding the first one:
//   qweight [⌈in/p⌉, out]  int32   qweight[k, o] = Σ_t code[o, k·p + t] << (bits·t)   (along the input dim)
//   qzeros  [G, ⌈out/p⌉]   int32   qzeros[g, c]  = Σ_t z'[g, c·p + t] << (bits·t)      (along the output dim)
//   scales  [G, out]       f16
//   g_idx   [in]           int32   group of each input column (any order with act-order)
// A ragged width is zero-padded (quant/accounting.ts counts exactly these bytes).
//
// Zero points: checkpoint_format "gptq" (v1, what AutoGPTQ, optimum, vLLM and GPTQModel all read)
// stores z' = z − 1 and every loader adds the 1 back; "gptq_v2" (GPTQModel, transformers through
// gptqmodel) stores z' = z. v1 cannot hold z = 0 (AutoGPTQ's uint32 cast wraps −1 into every bit of
// the word; GPTQModel clamps it to 0, i.e. loads z = 1): `v1Holds` says whether a matrix fits v1, and
// packing refuses a v1 matrix that does not rather than write a different weight.
import { EngineError } from '../../errors';
import { type GptqShapes, gptqShapes, perWord, quantGroups } from './accounting';
import type { QuantizedWeight } from './quantized-weight';
import { f16Bits } from './quantizer';

export const GPTQ_CHECKPOINT_FORMATS = ['gptq', 'gptq_v2'] as const;
export type GptqCheckpointFormat = (typeof GPTQ_CHECKPOINT_FORMATS)[number];

/** The four tensors of one linear, flat row-major in the shapes `shapes` gives. */
export interface GptqTensors {
  qweight: Int32Array;
  qzeros: Int32Array;
  /** f16 values (exact) */
  scales: Float32Array;
  gIdx: Int32Array;
  shapes: GptqShapes;
}

/** The zero point the checkpoint stores for z in this format. */
const zeroOffset = (format: GptqCheckpointFormat) => (format === 'gptq' ? 1 : 0);

/** Every zero point of the matrix is ≥ 1, so the v1 "z − 1" convention stores it exactly. */
export function v1Holds(q: QuantizedWeight): boolean {
  for (const z of q.zeros) if (z < 1) return false;
  return true;
}

export function packGptq(q: QuantizedWeight, format: GptqCheckpointFormat): GptqTensors {
  const { bits, outFeatures: out, inFeatures: inp } = q;
  if (bits !== 4 && bits !== 8) throw new RangeError(`packGptq: bits must be 4 or 8, got ${bits}`);
  const shapes = gptqShapes(out, inp, bits, q.groupSize);
  const G = quantGroups(inp, q.groupSize);
  const p = perWord(bits);
  const mask = 2 ** bits - 1;
  const qweight = new Int32Array(shapes.qweight[0] * out);
  for (let o = 0; o < out; o++) {
    const row = o * inp;
    for (let j = 0; j < inp; j++) {
      const c = q.codes[row + j]!;
      if (c > mask) throw new RangeError(`packGptq: code ${c} at [${o}, ${j}] exceeds ${mask}`);
      qweight[((j / p) | 0) * out + o]! |= c << (bits * (j % p));
    }
  }
  const off = zeroOffset(format);
  const zw = shapes.qzeros[1];
  const qzeros = new Int32Array(G * zw);
  for (let g = 0; g < G; g++)
    for (let o = 0; o < out; o++) {
      const z = q.zeros[g * out + o]! - off;
      if (z < 0 || z > mask)
        throw new EngineError(
          `zero point ${z + off} of group ${g}, output channel ${o} cannot be stored in checkpoint_format "${format}" (stores ${off ? 'z − 1' : 'z'} in ${bits} bits)`,
          {
            field: 'checkpoint_format',
            ...(format === 'gptq' ? { hint: 'write "gptq_v2", which stores z as it is' } : {}),
          },
        );
      qzeros[g * zw + ((o / p) | 0)]! |= z << (bits * (o % p));
    }
  for (const s of q.scales) f16Bits(s); // throws unless every scale is exactly an f16 value
  for (const g of q.gIdx)
    if (!(g >= 0 && g < G)) throw new RangeError(`packGptq: g_idx entry ${g} is outside 0..${G - 1}`);
  return { qweight, qzeros, scales: q.scales, gIdx: q.gIdx, shapes };
}

export interface GptqLinearParams {
  bits: 4 | 8;
  groupSize: number;
  symmetric: boolean;
  actOrder: boolean;
  outFeatures: number;
  inFeatures: number;
  format: GptqCheckpointFormat;
}

/** The stored integer codes, zeros, scales and g_idx back from the four tensors (shapes checked by the caller). */
export function unpackGptq(
  t: { qweight: Int32Array; qzeros: Int32Array; scales: Float32Array; gIdx: Int32Array },
  o: GptqLinearParams,
): QuantizedWeight {
  const { bits, outFeatures: out, inFeatures: inp } = o;
  const shapes = gptqShapes(out, inp, bits, o.groupSize);
  const G = quantGroups(inp, o.groupSize);
  const sizes: [string, number, number][] = [
    ['qweight', t.qweight.length, shapes.qweight[0] * shapes.qweight[1]],
    ['qzeros', t.qzeros.length, shapes.qzeros[0] * shapes.qzeros[1]],
    ['scales', t.scales.length, G * out],
    ['g_idx', t.gIdx.length, inp],
  ];
  for (const [name, got, want] of sizes)
    if (got !== want) throw new RangeError(`unpackGptq: ${name} has ${got} values, expected ${want}`);
  const p = perWord(bits);
  const mask = 2 ** bits - 1;
  const codes = new Uint8Array(out * inp);
  for (let j = 0; j < inp; j++) {
    const base = ((j / p) | 0) * out;
    const sh = bits * (j % p);
    for (let r = 0; r < out; r++) codes[r * inp + j] = (t.qweight[base + r]! >>> sh) & mask;
  }
  const off = zeroOffset(o.format);
  const zw = shapes.qzeros[1];
  const zeros = new Int32Array(G * out);
  for (let g = 0; g < G; g++)
    for (let r = 0; r < out; r++)
      zeros[g * out + r] = ((t.qzeros[g * zw + ((r / p) | 0)]! >>> (bits * (r % p))) & mask) + off;
  return {
    bits,
    groupSize: o.groupSize,
    symmetric: o.symmetric,
    actOrder: o.actOrder,
    outFeatures: out,
    inFeatures: inp,
    codes,
    scales: t.scales,
    zeros,
    gIdx: t.gIdx,
  };
}

/** g_idx is the plain ⌊j/g⌋ (no act-order permutation): loaders that ignore g_idx without desc_act read it right. */
export function trivialGIdx(q: QuantizedWeight): boolean {
  const gs = q.groupSize === -1 ? q.inFeatures : q.groupSize;
  for (let j = 0; j < q.inFeatures; j++) if (q.gIdx[j] !== Math.floor(j / gs)) return false;
  return true;
}
