// How a dense weight tensor is meant to be *stored* when that is not "every entry in the export
// dtype": slimmed (sparse) matrices and quantized matrices. The forward pass always uses the dense
// f32 tensor in the view; this side table says what the exporter writes and what the bytes are.
//
// Keyed by the tensor's data (`dataId`), not the Tensor object: tf.clone shares the data, so a later
// step that carries the weights over unchanged (expert drop clones the kept experts) keeps the entry,
// while any step that changes the weights makes new data and the entry no longer applies. Weak keys:
// an entry goes with its data. No tfjs import: the planning modules may use it.
//
// Quantized entries keep scales, zero points and g_idx only; the integer codes are recovered exactly
// from the dequantized weights (ŵ = s·(q − z) is exact in f32 for f16 s and |q − z| ≤ 255, so
// q = ŵ/s + z exactly) — see quant/gptq-pack.ts codesOf.
import { type SparseLayout, type SlimPattern, sparseBytes } from './slim/accounting';
import { quantMatrixBytes } from './quant/accounting';

/** The structural part of a tfjs tensor this module needs. */
export interface StoredTensor {
  readonly dataId: object;
  readonly size: number;
}

export interface SparseStorage extends SparseLayout {
  kind: 'sparse';
  pattern: SlimPattern;
  method: string;
}

export interface QuantStorage {
  kind: 'quant';
  method: string;
  /** out features (HF rows) and in features (HF cols) */
  rows: number;
  cols: number;
  bits: number;
  /** −1 = per output channel */
  groupSize: number;
  symmetric: boolean;
  actOrder: boolean;
  /** [G, rows] scales, each exactly an f16 value */
  scales: Float32Array;
  /** [G, rows] integer zero points in [0, 2^bits − 1] */
  zeros: Uint8Array;
  /** [cols] group of each input column (non-monotone with act-order) */
  gIdx: Int32Array;
}

export type WeightStorage = SparseStorage | QuantStorage;

const registry = new WeakMap<object, WeightStorage>();

export function setWeightStorage(t: StoredTensor, s: WeightStorage): void {
  const n = s.rows * s.cols;
  if (n !== t.size) throw new RangeError(`storage describes ${s.rows}x${s.cols} but the tensor has ${t.size} entries`);
  registry.set(t.dataId, s);
}

export function weightStorage(t: StoredTensor): WeightStorage | undefined {
  return registry.get(t.dataId);
}

export function storageBytes(s: WeightStorage, bytesPerParam: number): number {
  return s.kind === 'sparse' ? sparseBytes(s, bytesPerParam) : quantMatrixBytes(s.rows, s.cols, s.bits, s.groupSize);
}

/** Bytes a tensor takes when exported: its storage entry, or every entry at `bytesPerParam`. */
export function storedBytes(t: StoredTensor, bytesPerParam: number): number {
  const s = registry.get(t.dataId);
  return s ? storageBytes(s, bytesPerParam) : t.size * bytesPerParam;
}

/**
 * Bytes-per-param independent summary of a set of tensors: `values` stored in the export dtype plus
 * `extraBytes` (sparse indices, packed quantized weights). bytes = values·bytesPerParam + extraBytes.
 */
export interface StorageSummary {
  values: number;
  extraBytes: number;
}

export function storageSummary(tensors: Iterable<StoredTensor>): StorageSummary {
  const seen = new Set<object>();
  let values = 0;
  let extraBytes = 0;
  for (const t of tensors) {
    if (seen.has(t.dataId)) continue;
    seen.add(t.dataId);
    const s = registry.get(t.dataId);
    if (!s) values += t.size;
    else if (s.kind === 'quant') extraBytes += quantMatrixBytes(s.rows, s.cols, s.bits, s.groupSize);
    else {
      values += s.values;
      extraBytes += s.indexBytes;
    }
  }
  return { values, extraBytes };
}
