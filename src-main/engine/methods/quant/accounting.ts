// Byte accounting of GPTQ/RTN-quantized weight matrices in the AutoGPTQ export layout, from shapes
// only (no tfjs). One HF linear [out, in] at `bits` with group size g (−1 = one group per output
// channel, i.e. g = in) is stored as
//   qweight [⌈in / (32/bits)⌉, out] int32   codes packed along the input dimension
//   qzeros  [G, ⌈out / (32/bits)⌉]  int32   zero points packed along the output dimension
//   scales  [G, out]                f16
//   g_idx   [in]                    int32
// with G = ⌈in/g⌉ (1 for per-channel). AutoGPTQ writes `in // 32 * bits` rows, the same number when
// in is a multiple of 32 (every real model); a ragged width is zero-padded here instead of truncated.
// `quant/gptq-pack.ts` writes exactly these bytes.

export const QUANT_BITS = [4, 8] as const;
export type QuantBits = (typeof QUANT_BITS)[number];
export const GROUP_SIZES = [32, 64, 128, -1] as const;
export type GroupSize = (typeof GROUP_SIZES)[number];

/** codes per int32 word */
export const perWord = (bits: number) => 32 / bits;

export function quantGroups(inFeatures: number, groupSize: number): number {
  return groupSize === -1 ? 1 : Math.ceil(inFeatures / groupSize);
}

export interface GptqShapes {
  qweight: [number, number];
  qzeros: [number, number];
  scales: [number, number];
  gIdx: [number];
}

export function gptqShapes(
  outFeatures: number,
  inFeatures: number,
  bits: number,
  groupSize: number,
): GptqShapes {
  const G = quantGroups(inFeatures, groupSize);
  return {
    qweight: [Math.ceil(inFeatures / perWord(bits)), outFeatures],
    qzeros: [G, Math.ceil(outFeatures / perWord(bits))],
    scales: [G, outFeatures],
    gIdx: [inFeatures],
  };
}

/** Bytes of one quantized [out, in] matrix in the AutoGPTQ layout (qweight + qzeros + scales + g_idx). */
export function quantMatrixBytes(
  outFeatures: number,
  inFeatures: number,
  bits: number,
  groupSize: number,
): number {
  const s = gptqShapes(outFeatures, inFeatures, bits, groupSize);
  return (
    4 * s.qweight[0] * s.qweight[1] +
    4 * s.qzeros[0] * s.qzeros[1] +
    2 * s.scales[0] * s.scales[1] +
    4 * s.gIdx[0]
  );
}
