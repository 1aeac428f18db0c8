// GPTQ fasterquant (AutoGPTQ gptq.py, METHODS §4.2) on one matrix W [rows = out, cols = in] with the
// routed-token Gram G = Σ x xᵀ over `calls` forward calls; pure f64, no tfjs.
//
//   H = (2/calls)·G; per-channel params from the original W; dead inputs → H_jj = 1, W[:, j] = 0;
//   act-order: columns by descending diag H (stable); damping percdamp·mean(diag H);
//   U = chol_upper(H⁻¹); blocks of `blockSize` columns with lazy updates of the later columns;
//   with groups, a group's params are found at its first column (in processing order) from W as it
//   stood at the start of the current block — the reference reads the full W there, which holds the
//   block-start values for the block's own columns (it updates a copy) and the latest values after it;
//   g_idx[perm[i]] = ⌊i/g⌋ (AutoGPTQ without static groups).
import { hessianFromGram, inverseUpperCholesky, permuteSymmetric } from '../slim/hessian';
import { obsSweep } from '../slim/obs';
import { findParams, type QuantGrid, type QuantizedMatrix, quantCode } from './quantizer';

export interface GptqOptions {
  groupSize: number;
  actOrder: boolean;
  dampening: number;
  blockSize: number;
}

export interface GptqResult extends QuantizedMatrix {
  loss: number;
  deadInputs: number;
  damp: number;
  dampRetries: number;
}

/** Stable argsort, descending. */
function argsortDesc(v: ArrayLike<number>, n: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => (v[b]! as number) - (v[a]! as number) || a - b);
  return Int32Array.from(idx);
}

export function gptqQuantize(
  W0: Float32Array,
  rows: number,
  cols: number,
  gram: Float64Array,
  calls: number,
  g: QuantGrid,
  o: GptqOptions,
): GptqResult {
  const gs = o.groupSize === -1 ? cols : o.groupSize;
  const G = Math.ceil(cols / gs);
  const scales = new Float32Array(G * rows);
  const zeros = new Uint8Array(G * rows);
  const s = new Float64Array(rows);
  const z = new Float64Array(rows);
  if (o.groupSize === -1) findParams(W0, rows, cols, 0, cols, g, s, z);

  const h = hessianFromGram(gram, cols, calls);
  let H = h.H;
  let perm: Int32Array | null = null;
  // W in processing order (columns permuted with act-order)
  const W = new Float64Array(rows * cols);
  if (o.actOrder) {
    const diag = Float64Array.from({ length: cols }, (_, j) => H[j * cols + j]!);
    perm = argsortDesc(diag, cols);
    H = permuteSymmetric(H, cols, perm);
  }
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < cols; i++) {
      const j = perm ? perm[i]! : i;
      W[r * cols + i] = h.dead[j] ? 0 : W0[r * cols + j]!;
    }
  const f = inverseUpperCholesky(H, cols, o.dampening);
  const codesP = new Uint8Array(rows * cols);
  let snap = new Float64Array(0);
  let snap0 = 0;
  let snapW = 0;
  let group = -1;
  const loss = obsSweep(W, rows, cols, f.U, o.blockSize, {
    blockStart(i1, i2) {
      if (o.groupSize === -1) return;
      snap0 = i1;
      snapW = i2 - i1;
      snap = new Float64Array(rows * snapW);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < snapW; i++) snap[r * snapW + i] = W[r * cols + i1 + i]!;
    },
    column(c, w, q) {
      if (o.groupSize !== -1 && c % gs === 0) {
        // params of columns [c, c + gs): block-start values inside the block, current ones after it
        const c1 = Math.min(cols, c + gs);
        const tmp = new Float64Array(rows * (c1 - c));
        const n = c1 - c;
        for (let r = 0; r < rows; r++)
          for (let j = c; j < c1; j++)
            tmp[r * n + j - c] = j < snap0 + snapW ? snap[r * snapW + j - snap0]! : W[r * cols + j]!;
        findParams(tmp, rows, n, 0, n, g, s, z);
        group = c / gs;
        for (let r = 0; r < rows; r++) {
          scales[group * rows + r] = s[r]!;
          zeros[group * rows + r] = z[r]!;
        }
      }
      for (let r = 0; r < rows; r++) {
        const code = quantCode(w[r]!, s[r]!, z[r]!, g.maxq);
        codesP[r * cols + c] = code;
        q[r] = s[r]! * (code - z[r]!);
      }
    },
  });
  if (o.groupSize === -1)
    for (let r = 0; r < rows; r++) {
      scales[r] = s[r]!;
      zeros[r] = z[r]!;
    }
  // back to the original column order
  const out = new Float32Array(rows * cols);
  const codes = new Uint8Array(rows * cols);
  const gIdx = new Int32Array(cols);
  for (let i = 0; i < cols; i++) {
    const j = perm ? perm[i]! : i;
    gIdx[j] = Math.floor(i / gs);
    for (let r = 0; r < rows; r++) {
      codes[r * cols + j] = codesP[r * cols + i]!;
      out[r * cols + j] = W[r * cols + i]!;
    }
  }
  return {
    w: out,
    codes,
    scales,
    zeros,
    gIdx,
    loss,
    deadInputs: h.deadCount,
    damp: f.damp,
    dampRetries: f.retries,
  };
}
