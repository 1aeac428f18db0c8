// The three slimming rules on one matrix W [rows = out, cols = in] (METHODS §4.1), pure f64/f32
// arithmetic, no tfjs. Each returns the new weights and the mask it applied (1 = pruned).
import { nmOf, nmPruned, type SlimPattern, SPARSEGPT_BLOCK } from './accounting';
import { hessianFromGram, inverseUpperCholesky } from './hessian';
import { applyMask, markLowest, markNM } from './masks';
import { obsSweep } from './obs';

export interface PruneResult {
  w: Float32Array;
  mask: Uint8Array;
  /** positions pruned by the rule (the mask's count) */
  pruned: number;
}

export interface PruneSpec {
  sparsity: number;
  pattern: SlimPattern;
}

const noop = (w: Float32Array): PruneResult => ({ w: w.slice(), mask: new Uint8Array(w.length), pruned: 0 });

/** Magnitude: |W|; unstructured = the ⌊s·rows·cols⌋ smallest of the whole matrix. */
export function magnitudePrune(W: Float32Array, rows: number, cols: number, p: PruneSpec): PruneResult {
  if (p.pattern === 'unstructured' && p.sparsity === 0) return noop(W);
  const score = Float64Array.from(W, Math.abs);
  const mask = new Uint8Array(W.length);
  if (p.pattern === 'unstructured') markLowest(score, mask, 0, W.length, Math.floor(W.length * p.sparsity));
  else markNM(score, mask, rows, cols, p.pattern);
  const w = W.slice();
  return { w, mask, pruned: applyMask(w, mask) };
}

/**
 * Wanda: |W_ij|·sqrt(s_j), s_j = Σ x_j² over the matrix's routed inputs (the reference's per-sample
 * normalisation scales every column alike, so it does not change a row's order); unstructured = the
 * ⌊s·cols⌋ lowest of each row.
 */
export function wandaPrune(
  W: Float32Array,
  rows: number,
  cols: number,
  sumSq: Float64Array,
  p: PruneSpec,
): PruneResult {
  if (p.pattern === 'unstructured' && p.sparsity === 0) return noop(W);
  const norm = Float64Array.from(sumSq, Math.sqrt);
  const score = new Float64Array(W.length);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) score[r * cols + j] = Math.abs(W[r * cols + j]!) * norm[j]!;
  const mask = new Uint8Array(W.length);
  if (p.pattern === 'unstructured') {
    const k = Math.floor(cols * p.sparsity);
    for (let r = 0; r < rows; r++) markLowest(score, mask, r * cols, cols, k);
  } else markNM(score, mask, rows, cols, p.pattern);
  const w = W.slice();
  return { w, mask, pruned: applyMask(w, mask) };
}

export interface SparseGptOptions extends PruneSpec {
  dampening: number;
  blockSize: number;
}

export interface SparseGptResult extends PruneResult {
  loss: number;
  deadInputs: number;
  damp: number;
  dampRetries: number;
}

/**
 * SparseGPT fasterprune on the routed-token Gram G = Σ x xᵀ seen over `calls` forward calls:
 * H = (2/calls)·G; dead inputs → H_jj = 1, W[:, j] = 0; U = chol_upper((H + damp·I)⁻¹); per block
 * (unstructured) the ⌊s·rows·width⌋ lowest of w²/U_jj² over the whole block, or per M-group of each
 * row at the group's first column (N:M, groups aligned to absolute columns), with OBS compensation.
 */
export function sparseGptPrune(
  W: Float32Array,
  rows: number,
  cols: number,
  gram: Float64Array,
  calls: number,
  o: SparseGptOptions,
): SparseGptResult {
  if (o.pattern === 'unstructured' && o.sparsity === 0)
    return { ...noop(W), loss: 0, deadInputs: 0, damp: 0, dampRetries: 0 };
  const h = hessianFromGram(gram, cols, calls);
  const w = Float64Array.from(W);
  for (let j = 0; j < cols; j++) if (h.dead[j]) for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
  const f = inverseUpperCholesky(h.H, cols, o.dampening);
  const U = f.U;
  const mask = new Uint8Array(W.length);
  const nm = nmOf(o.pattern);
  const blockSize = o.blockSize || SPARSEGPT_BLOCK;
  const loss = obsSweep(w, rows, cols, U, blockSize, {
    blockStart(i1, i2) {
      if (nm) return;
      const count = i2 - i1;
      const score = new Float64Array(rows * count);
      const sub = new Uint8Array(rows * count);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < count; i++) {
          const d = U[(i1 + i) * cols + i1 + i]!;
          const v = w[r * cols + i1 + i]!;
          score[r * count + i] = (v * v) / (d * d);
        }
      markLowest(score, sub, 0, rows * count, Math.floor(rows * count * o.sparsity));
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < count; i++) mask[r * cols + i1 + i] = sub[r * count + i]!;
    },
    column(c, col, q) {
      if (nm && c % nm.m === 0) {
        const len = Math.min(nm.m, cols - c);
        const k = nmPruned(len, nm);
        const score = new Float64Array(len);
        const sub = new Uint8Array(len);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < len; j++) {
            const d = U[(c + j) * cols + c + j]!;
            const v = w[r * cols + c + j]!;
            score[j] = (v * v) / (d * d);
          }
          sub.fill(0);
          markLowest(score, sub, 0, len, k);
          for (let j = 0; j < len; j++) mask[r * cols + c + j] = sub[j]!;
        }
      }
      for (let r = 0; r < rows; r++) q[r] = mask[r * cols + c] ? 0 : col[r]!;
    },
  });
  let pruned = 0;
  for (let i = 0; i < mask.length; i++) pruned += mask[i]!;
  return {
    w: Float32Array.from(w),
    mask,
    pruned,
    loss,
    deadInputs: h.deadCount,
    damp: f.damp,
    dampRetries: f.retries,
  };
}
