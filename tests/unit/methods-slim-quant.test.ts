// Slimming (magnitude, Wanda, SparseGPT; METHODS §4.1) and quantization (RTN, GPTQ; §4.2) on single
// matrices, pure arithmetic: exact mask counts, the calibration output-error order of the three
// pruning rules and of RTN vs GPTQ, the analytic RTN bound, identities, the stored quantized form,
// and the byte accounting (planned = what the methods produced).
import { describe, expect, it } from 'vitest';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { quantMatrixBytes } from '../../src-main/engine/methods/quant/accounting';
import { gptqQuantize } from '../../src-main/engine/methods/quant/gptq-core';
import {
  checkQuantizedWeight,
  dequantize,
  quantizedWeight,
} from '../../src-main/engine/methods/quant/quantized-weight';
import { quantGrid, rtnQuantize } from '../../src-main/engine/methods/quant/quantizer';
import {
  nmOf,
  prunedCount,
  type SlimPattern,
  sparseLayout,
} from '../../src-main/engine/methods/slim/accounting';
import { magnitudePrune, sparseGptPrune, wandaPrune } from '../../src-main/engine/methods/slim/prune-core';

/** X [n, cols] with channel scales spread over two decades and correlated channels (like real activations). */
function activations(seed: number, n: number, cols: number): Float64Array {
  const rng = xoshiro128ss(seed);
  const scale = Float64Array.from({ length: cols }, () => 10 ** (2 * rng.next() - 1));
  const X = new Float64Array(n * cols);
  for (let t = 0; t < n; t++) {
    const common = rng.gaussian();
    for (let j = 0; j < cols; j++) X[t * cols + j] = scale[j]! * (rng.gaussian() + 0.5 * common);
  }
  return X;
}

function weights(seed: number, rows: number, cols: number): Float32Array {
  const rng = xoshiro128ss(seed);
  return Float32Array.from({ length: rows * cols }, () => rng.gaussian() * 0.1);
}

function gramOf(X: Float64Array, n: number, cols: number): Float64Array {
  const G = new Float64Array(cols * cols);
  for (let t = 0; t < n; t++)
    for (let i = 0; i < cols; i++) {
      const xi = X[t * cols + i]!;
      for (let j = 0; j < cols; j++) G[i * cols + j] += xi * X[t * cols + j]!;
    }
  return G;
}

/** ‖(W − Ŵ) Xᵀ‖² over the calibration tokens */
function outputError(
  W: Float32Array,
  Wh: Float32Array,
  rows: number,
  cols: number,
  X: Float64Array,
  n: number,
): number {
  let e = 0;
  for (let r = 0; r < rows; r++)
    for (let t = 0; t < n; t++) {
      let d = 0;
      for (let j = 0; j < cols; j++) d += (W[r * cols + j]! - Wh[r * cols + j]!) * X[t * cols + j]!;
      e += d * d;
    }
  return e;
}

const diagOf = (G: Float64Array, n: number) => Float64Array.from({ length: n }, (_, j) => G[j * n + j]!);

describe('slimming masks', () => {
  const rows = 24;
  const cols = 40; // not a multiple of 8 or of 128: ragged N:M tails and one partial SparseGPT block
  const n = 96;
  const W = weights(1, rows, cols);
  const X = activations(2, n, cols);
  const G = gramOf(X, n, cols);
  const run = (p: { sparsity: number; pattern: SlimPattern }) => ({
    magnitude: magnitudePrune(W, rows, cols, p),
    wanda: wandaPrune(W, rows, cols, diagOf(G, cols), p),
    sparsegpt: sparseGptPrune(W, rows, cols, G, 4, { ...p, dampening: 0.01, blockSize: 16 }),
  });

  it('Wanda prunes exactly ⌊s·in⌋ per row, Magnitude ⌊s·rows·in⌋ per matrix, SparseGPT ⌊s·rows·width⌋ per block', () => {
    for (const s of [0.1, 0.3, 0.5, 0.77]) {
      const r = run({ sparsity: s, pattern: 'unstructured' });
      for (let row = 0; row < rows; row++) {
        let k = 0;
        for (let j = 0; j < cols; j++) k += r.wanda.mask[row * cols + j]!;
        expect(k).toBe(Math.floor(s * cols));
      }
      expect(r.magnitude.pruned).toBe(Math.floor(s * rows * cols));
      for (let b = 0; b < cols; b += 16) {
        const width = Math.min(16, cols - b);
        let k = 0;
        for (let row = 0; row < rows; row++)
          for (let j = b; j < b + width; j++) k += r.sparsegpt.mask[row * cols + j]!;
        expect(k).toBe(Math.floor(s * rows * width));
      }
      for (const [name, m] of Object.entries(r)) {
        expect(m.pruned, name).toBe(
          prunedCount(
            rows,
            cols,
            s,
            'unstructured',
            name === 'magnitude' ? 'matrix' : name === 'wanda' ? 'row' : 'block',
            16,
          ),
        );
        // the mask is where the zeros were written
        for (let i = 0; i < W.length; i++) if (m.mask[i]) expect(m.w[i]).toBe(0);
      }
    }
  });

  it('N:M masks zero exactly N of every M consecutive inputs of each row (a short tail ⌊len·N/M⌋)', () => {
    for (const pattern of ['2:4', '4:8'] as const) {
      const { n: N, m: M } = nmOf(pattern)!;
      for (const [name, r] of Object.entries(run({ sparsity: 0.5, pattern }))) {
        for (let row = 0; row < rows; row++)
          for (let j = 0; j < cols; j += M) {
            const len = Math.min(M, cols - j);
            let k = 0;
            for (let c = j; c < j + len; c++) k += r.mask[row * cols + c]!;
            expect(k, `${name} ${pattern} row ${row} group ${j}`).toBe(
              len === M ? N : Math.floor((len * N) / M),
            );
          }
        expect(r.pruned).toBe(prunedCount(rows, cols, 0.5, pattern, 'row'));
      }
    }
  });

  it('on the calibration tokens SparseGPT’s output error ≤ Wanda’s ≤ Magnitude’s, at equal sparsity', () => {
    for (const seed of [3, 4, 5])
      for (const pattern of ['unstructured', '2:4', '4:8'] as const) {
        const Ws = weights(seed, rows, cols);
        const Xs = activations(seed + 10, n, cols);
        const Gs = gramOf(Xs, n, cols);
        const p = { sparsity: 0.5, pattern };
        const mag = magnitudePrune(Ws, rows, cols, p);
        const wan = wandaPrune(Ws, rows, cols, diagOf(Gs, cols), p);
        const sgp = sparseGptPrune(Ws, rows, cols, Gs, 4, { ...p, dampening: 0.01, blockSize: 128 });
        const e = [sgp, wan, mag].map((r) => outputError(Ws, r.w, rows, cols, Xs, n));
        expect(e[0]!, `seed ${seed} ${pattern}: sparsegpt ≤ wanda`).toBeLessThanOrEqual(e[1]!);
        expect(e[1]!, `seed ${seed} ${pattern}: wanda ≤ magnitude`).toBeLessThanOrEqual(e[2]!);
      }
  });

  it('sparsity 0 (unstructured) is the identity for every rule', () => {
    for (const [name, r] of Object.entries(run({ sparsity: 0, pattern: 'unstructured' }))) {
      expect(r.pruned, name).toBe(0);
      expect(Array.from(r.w), name).toEqual(Array.from(W));
    }
  });
});

describe('quantization', () => {
  const rows = 20;
  const cols = 256;
  const n = 160;
  const W = weights(7, rows, cols);
  const X = activations(8, n, cols);
  const G = gramOf(X, n, cols);

  it('RTN int8 per channel: |w − ŵ| ≤ scale/2 for every weight, scales exact f16, ŵ = s·(q − z) exactly', () => {
    for (const symmetric of [true, false]) {
      const r = rtnQuantize(W, rows, cols, quantGrid(8, symmetric), -1);
      for (let row = 0; row < rows; row++) {
        const s = r.scales[row]!;
        for (let j = 0; j < cols; j++) {
          const i = row * cols + j;
          expect(Math.abs(W[i]! - r.w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-12);
          expect(r.w[i]).toBe(Math.fround(s * (r.codes[i]! - r.zeros[row]!)));
        }
      }
    }
  });

  it('GPTQ’s calibration output error ≤ RTN’s at the same bits and group size (act-order on and off)', () => {
    for (const bits of [4, 8] as const)
      for (const groupSize of [32, 64, 128, -1])
        for (const symmetric of [true, false])
          for (const actOrder of [false, true]) {
            const g = quantGrid(bits, symmetric);
            const rtn = rtnQuantize(W, rows, cols, g, groupSize);
            const gq = gptqQuantize(W, rows, cols, G, 4, g, {
              groupSize,
              actOrder,
              dampening: 0.01,
              blockSize: 128,
            });
            const what = `int${bits} g${groupSize} ${symmetric ? 'sym' : 'asym'} ${actOrder ? 'act-order' : ''}`;
            expect(outputError(W, gq.w, rows, cols, X, n), what).toBeLessThanOrEqual(
              outputError(W, rtn.w, rows, cols, X, n),
            );
          }
  });

  it('the stored form dequantizes to exactly the weights the forward pass uses (act-order g_idx included)', () => {
    const g = quantGrid(4, false);
    const gq = gptqQuantize(W, rows, cols, G, 4, g, {
      groupSize: 32,
      actOrder: true,
      dampening: 0.01,
      blockSize: 64,
    });
    const q = quantizedWeight(gq, {
      bits: 4,
      groupSize: 32,
      symmetric: false,
      actOrder: true,
      outFeatures: rows,
      inFeatures: cols,
    });
    expect(checkQuantizedWeight(q)).toBeNull();
    expect(Array.from(dequantize(q))).toEqual(Array.from(gq.w));
    // act-order: g_idx is not monotone, and every group still holds exactly groupSize columns
    expect(Array.from(q.gIdx).some((v, i) => i > 0 && v < q.gIdx[i - 1]!)).toBe(true);
    const counts = new Map<number, number>();
    for (const v of q.gIdx) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 32)).toBe(true);
    for (const s of q.scales) expect(Math.fround(s)).toBe(s);
    expect(checkQuantizedWeight({ ...q, zeros: q.zeros.map(() => 16) })).toMatch(/zero point 16/);
  });

  it('weights already on the int8 grid are reproduced exactly by RTN and GPTQ (the identity of quantization)', () => {
    // an asymmetric per-channel grid s·(q − 128), s an f16 value, every row spanning codes 0..255: the
    // min-max search finds exactly that scale and zero point
    const rng = xoshiro128ss(11);
    const onGrid = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const s = 2 ** -(6 + (r % 3));
      for (let j = 0; j < cols; j++) {
        const code = j === 0 ? 0 : j === 1 ? 255 : rng.int(256);
        onGrid[r * cols + j] = s * (code - 128);
      }
    }
    const g = quantGrid(8, false);
    const rtn = rtnQuantize(onGrid, rows, cols, g, -1);
    expect(Array.from(rtn.w)).toEqual(Array.from(onGrid));
    const gq = gptqQuantize(onGrid, rows, cols, G, 4, g, {
      groupSize: -1,
      actOrder: true,
      dampening: 0.01,
      blockSize: 128,
    });
    expect(Array.from(gq.w)).toEqual(Array.from(onGrid));
    expect(gq.loss).toBe(0);
  });
});

describe('weight-bytes accounting', () => {
  it('sparse bytes = kept values + bitmask (unstructured) or 2/3-bit positions (2:4, 4:8)', () => {
    expect(sparseLayout(8, 16, 64, 'unstructured')).toEqual({
      rows: 8,
      cols: 16,
      values: 64,
      indexBytes: 8 * 2,
    });
    expect(sparseLayout(8, 16, 64, '2:4')).toEqual({ rows: 8, cols: 16, values: 64, indexBytes: 8 * 2 }); // 8 kept × 2 bits per row
    expect(sparseLayout(8, 16, 64, '4:8')).toEqual({ rows: 8, cols: 16, values: 64, indexBytes: 8 * 3 }); // 8 kept × 3 bits
    expect(sparseLayout(8, 16, 0, 'unstructured').indexBytes).toBe(0);
  });

  it('GPTQ-layout bytes: int32 qweight/qzeros, f16 scales, int32 g_idx', () => {
    // [out 64, in 256], 4 bits, g128: qweight 32×64, qzeros 2×8, scales 2×64, g_idx 256
    expect(quantMatrixBytes(64, 256, 4, 128)).toBe(4 * 32 * 64 + 4 * 2 * 8 + 2 * 2 * 64 + 4 * 256);
    expect(quantMatrixBytes(64, 256, 8, -1)).toBe(4 * 64 * 64 + 4 * 1 * 16 + 2 * 64 + 4 * 256);
  });
});
