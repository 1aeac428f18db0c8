// The column sweep with Optimal-Brain-Surgeon error compensation that SparseGPT (fasterprune) and
// GPTQ (fasterquant) share: columns left to right in blocks; column c gets its new values q (pruned
// or quantized) from the hook, the error e = (w − q)/U_cc is spread over the rest of the block at
// once (W[:, c+1:i2] −= e·U[c, c+1:i2]) and over the columns after the block lazily, once per block
// (W[:, i2:] −= E·U[i1:i2, i2:]). In place on W (f64, [rows, cols] row-major); column c is set to
// exactly q.

export interface ObsHooks {
  /** called before the first column of each block [i1, i2) */
  blockStart?(i1: number, i2: number): void;
  /** new values of column c from its current values `w` (length rows) into `q` */
  column(c: number, w: Float64Array, q: Float64Array): void;
}

/** Returns the OBS loss Σ (w − q)²/U_cc² / 2 (the reference's Losses). */
export function obsSweep(
  W: Float64Array,
  rows: number,
  cols: number,
  U: Float64Array,
  blockSize: number,
  hooks: ObsHooks,
): number {
  const w = new Float64Array(rows);
  const q = new Float64Array(rows);
  let loss = 0;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const count = i2 - i1;
    const E = new Float64Array(rows * count);
    hooks.blockStart?.(i1, i2);
    for (let i = 0; i < count; i++) {
      const c = i1 + i;
      const uc = c * cols;
      const d = U[uc + c]!;
      for (let r = 0; r < rows; r++) w[r] = W[r * cols + c]!;
      hooks.column(c, w, q);
      for (let r = 0; r < rows; r++) {
        const diff = w[r]! - q[r]!;
        const rr = r * cols;
        W[rr + c] = q[r]!;
        if (diff === 0) continue;
        const e = diff / d;
        E[r * count + i] = e;
        loss += (e * e) / 2;
        for (let j = c + 1; j < i2; j++) W[rr + j] -= e * U[uc + j]!;
      }
    }
    if (i2 === cols) continue;
    for (let r = 0; r < rows; r++) {
      const rr = r * cols;
      for (let k = 0; k < count; k++) {
        const e = E[r * count + k]!;
        if (e === 0) continue;
        const uk = (i1 + k) * cols;
        for (let j = i2; j < cols; j++) W[rr + j] -= e * U[uk + j]!;
      }
    }
  }
  return loss;
}
