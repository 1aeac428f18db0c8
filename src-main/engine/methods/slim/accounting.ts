// Byte accounting of slimmed (sparse) weight matrices, from shapes only (no tfjs). Sparsity changes
// what a matrix costs to store, not its parameter count (METHODS §6: the Unified project reports
// sparsity of the expert weights, not a parameter ratio).
//
// Storage model (what an exporter of a sparse format would write):
//   unstructured  kept values in the export dtype + a bitmask of ⌈in/8⌉ bytes per output row
//   N:M           kept values + ⌈log2 M⌉ bits of position per kept value (2:4 → 2 bits, the NVIDIA
//                 sparse-tensor-core metadata; 4:8 → 3 bits), rounded up to whole bytes per row
// A matrix with nothing pruned stays dense (no index). The sparse form is used whenever something is
// pruned (it is smaller than dense from ~3 % sparsity at f32, ~6 % at bf16), so bytes are linear in
// the bytes per value: values·bytesPerParam + indexBytes.

export const SLIM_PATTERNS = ['unstructured', '2:4', '4:8'] as const;
export type SlimPattern = (typeof SLIM_PATTERNS)[number];

/** The mask geometry of each slimming method for unstructured sparsity (N:M is the same for all). */
export type SlimGeometry = 'matrix' | 'row' | 'block';

export const SPARSEGPT_BLOCK = 128;

export function nmOf(pattern: SlimPattern): { n: number; m: number } | null {
  if (pattern === 'unstructured') return null;
  const [n, m] = pattern.split(':').map(Number) as [number, number];
  return { n, m };
}

/** Positions pruned in one group of `len` ≤ M inputs: N, or ⌊len·N/M⌋ for a short tail group. */
export function nmPruned(len: number, nm: { n: number; m: number }): number {
  return len === nm.m ? nm.n : Math.floor((len * nm.n) / nm.m);
}

/**
 * Positions a method prunes in a [rows, cols] matrix (exact: every method prunes exactly this many,
 * ties broken by position). `matrix` = ⌊s·rows·cols⌋ (Magnitude), `row` = rows·⌊s·cols⌋ (Wanda),
 * `block` = Σ over 128-column blocks of ⌊s·rows·width⌋ (SparseGPT).
 */
export function prunedCount(
  rows: number,
  cols: number,
  sparsity: number,
  pattern: SlimPattern,
  geometry: SlimGeometry,
  blockSize = SPARSEGPT_BLOCK,
): number {
  if (sparsity === 0 && pattern === 'unstructured') return 0;
  const nm = nmOf(pattern);
  if (nm) {
    let perRow = 0;
    for (let j = 0; j < cols; j += nm.m) perRow += nmPruned(Math.min(nm.m, cols - j), nm);
    return rows * perRow;
  }
  if (geometry === 'matrix') return Math.floor(rows * cols * sparsity);
  if (geometry === 'row') return rows * Math.floor(cols * sparsity);
  let n = 0;
  for (let j = 0; j < cols; j += blockSize) n += Math.floor(rows * Math.min(blockSize, cols - j) * sparsity);
  return n;
}

/** Index bytes of the sparse format holding `kept` values of a [rows, cols] matrix. */
export function sparseIndexBytes(rows: number, cols: number, kept: number, pattern: SlimPattern): number {
  const nm = nmOf(pattern);
  if (!nm) return rows * Math.ceil(cols / 8);
  const bits = Math.ceil(Math.log2(nm.m));
  return rows * Math.ceil(((kept / rows) * bits) / 8);
}

/** Stored form of a slimmed matrix: values in the export dtype plus index bytes. */
export interface SparseLayout {
  rows: number;
  cols: number;
  /** stored (kept) positions */
  values: number;
  indexBytes: number;
}

export function sparseLayout(rows: number, cols: number, pruned: number, pattern: SlimPattern): SparseLayout {
  const values = rows * cols - pruned;
  return { rows, cols, values, indexBytes: pruned === 0 ? 0 : sparseIndexBytes(rows, cols, values, pattern) };
}

/** Bytes of a sparse layout at `bytesPerParam` per value. */
export function sparseBytes(s: SparseLayout, bytesPerParam: number): number {
  return s.values * bytesPerParam + s.indexBytes;
}
