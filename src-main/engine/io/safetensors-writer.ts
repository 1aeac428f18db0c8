// Streaming safetensors writer. The header is computed from shapes alone, then each entry's
// producer is called and its bytes written immediately, so at most one tensor is in memory.
// Files are written under a temporary name and renamed, so a crash never leaves a half file
// under the final name.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { f32ToBf16, f32ToF16 } from '../tensor/dtype';
import { SAFETENSORS_DTYPES } from './safetensors-header';

export type WriteDtype = 'F32' | 'F16' | 'BF16';

export type WriteEntry =
  | {
      name: string;
      dtype: WriteDtype;
      shape: number[];
      /** Called once, when the entry's turn comes; must return prod(shape) values. */
      data: () => Float32Array;
    }
  /** packed integer tensors (GPTQ qweight / qzeros / g_idx), written as they are */
  | { name: string; dtype: 'I32'; shape: number[]; data: () => Int32Array };

const WRITE_CHUNK = 1 << 30;
const SHARD_NAME = /^model-\d+-of-\d+\.safetensors$/;

/**
 * transformers refuses safetensors whose `format` metadata is not one of pt/tf/flax/mlx, so every
 * file carries `format: pt` unless the caller sets it.
 */
const DEFAULT_METADATA = { format: 'pt' };

function elementCount(e: WriteEntry, file: string): number {
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new EngineError(`shape ${JSON.stringify(e.shape)} is not an array of non-negative integers`, {
      file,
      field: `tensor '${e.name}'.shape`,
    });
  }
  return e.shape.reduce((a, b) => a * b, 1);
}

function byteSize(e: WriteEntry, file: string): number {
  if (!Object.hasOwn(SAFETENSORS_DTYPES, e.dtype) || !['F32', 'F16', 'BF16', 'I32'].includes(e.dtype)) {
    throw new EngineError(`dtype ${JSON.stringify(e.dtype)} cannot be written; use F32, F16, BF16 or I32`, {
      file,
      field: `tensor '${e.name}'.dtype`,
    });
  }
  return elementCount(e, file) * SAFETENSORS_DTYPES[e.dtype];
}

/**
 * Layout order: wider dtypes first, stable otherwise (what the Rust serializer does), so every
 * tensor starts at an offset aligned to its element size. Producers are called in this order.
 */
function layoutOrder(entries: WriteEntry[]): WriteEntry[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => SAFETENSORS_DTYPES[b.e.dtype] - SAFETENSORS_DTYPES[a.e.dtype] || a.i - b.i)
    .map((x) => x.e);
}

function buildHeader(ordered: WriteEntry[], metadata: Record<string, string>, file: string): Uint8Array {
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new EngineError(`metadata value of '${k}' must be a string`, { file, field: '__metadata__' });
  }
  header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const e of ordered) {
    if (e.name === '__metadata__' || e.name.length === 0) {
      throw new EngineError(`invalid tensor name ${JSON.stringify(e.name)}`, { file, field: 'name' });
    }
    if (seen.has(e.name)) throw new EngineError(`tensor '${e.name}' given twice`, { file, field: 'name' });
    seen.add(e.name);
    const size = byteSize(e, file);
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data section starts 8-byte aligned (as the Rust implementation does).
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) {
    done += fs.writeSync(fd, bytes, done, Math.min(WRITE_CHUNK, bytes.length - done));
  }
}

function encode(dtype: WriteEntry['dtype'], values: Float32Array | Int32Array): Uint8Array {
  const typed =
    dtype === 'F32' || dtype === 'I32'
      ? values
      : dtype === 'BF16'
        ? f32ToBf16(values as Float32Array)
        : f32ToF16(values as Float32Array);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function tempName(target: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`,
  );
}

export function writeSafetensors(
  file: string,
  entries: WriteEntry[],
  metadata?: Record<string, string>,
): { bytes: number } {
  const target = path.resolve(file);
  const ordered = layoutOrder(entries);
  const header = buildHeader(ordered, { ...DEFAULT_METADATA, ...metadata }, target);
  const tmp = tempName(target);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (e) {
    throw new EngineError(`cannot create file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file: target,
      cause: e,
    });
  }
  let bytes = header.length;
  try {
    writeAll(fd, header);
    for (const e of ordered) {
      const values = e.data();
      const n = elementCount(e, target);
      const Want = e.dtype === 'I32' ? Int32Array : Float32Array;
      if (!(values instanceof Want) || values.length !== n) {
        const got =
          values instanceof Want ? `${values.length} values` : (values?.constructor?.name ?? typeof values);
        throw new EngineError(
          `producer returned ${got}; shape [${e.shape.join(', ')}] needs ${n} ${e.dtype === 'I32' ? 'int32' : 'f32'} values`,
          {
            file: target,
            field: `tensor '${e.name}'`,
          },
        );
      }
      const enc = encode(e.dtype, values);
      writeAll(fd, enc);
      bytes += enc.length;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    // a write error (ENOSPC, EIO, EDQUOT) names the file it hit
    if (!(e instanceof EngineError) && code)
      throw new EngineError(`cannot write the file (${code})`, {
        file: target,
        cause: e,
        ...(code === 'ENOSPC' || code === 'EDQUOT'
          ? { hint: 'the disk is full: free some space or write elsewhere' }
          : {}),
      });
    throw e;
  }
  fs.renameSync(tmp, target);
  return { bytes };
}

export interface ShardedWriteOptions {
  maxShardBytes: number;
  metadata?: Record<string, string>;
}

export interface ShardedWriteResult {
  files: string[];
  /** Sum of tensor data bytes (the index's `metadata.total_size`). */
  totalSize: number;
  /** Bytes written, headers included. */
  bytes: number;
}

/**
 * Splits entries into shards in order, a new shard starting whenever the next tensor would push
 * the current one past `maxShardBytes` (a tensor larger than the limit gets a shard of its own, as
 * in transformers). One shard → `model.safetensors`; more → `model-0000i-of-0000N.safetensors`
 * plus `model.safetensors.index.json`. Files of an earlier export into the same folder (the other
 * layout, or shards of another count) are removed, since a loader could otherwise pick them up.
 */
export function writeShardedCheckpoint(
  dir: string,
  entries: WriteEntry[],
  opts: ShardedWriteOptions,
): ShardedWriteResult {
  const root = path.resolve(dir);
  if (!(opts.maxShardBytes > 0)) {
    throw new EngineError(`maxShardBytes must be positive, got ${opts.maxShardBytes}`, {
      file: root,
      field: 'maxShardBytes',
    });
  }
  fs.mkdirSync(root, { recursive: true });
  const shards: WriteEntry[][] = [];
  let current: WriteEntry[] = [];
  let currentBytes = 0;
  let totalSize = 0;
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name))
      throw new EngineError(`tensor '${e.name}' given twice`, { file: root, field: 'name' });
    seen.add(e.name);
    const size = byteSize(e, root);
    if (current.length > 0 && currentBytes + size > opts.maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(e);
    currentBytes += size;
    totalSize += size;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  const single = path.join(root, 'model.safetensors');
  const indexFile = path.join(root, 'model.safetensors.index.json');
  if (shards.length === 1) {
    const { bytes } = writeSafetensors(single, shards[0]!, opts.metadata);
    fs.rmSync(indexFile, { force: true });
    for (const name of fs.readdirSync(root))
      if (SHARD_NAME.test(name)) fs.rmSync(path.join(root, name), { force: true });
    return { files: [single], totalSize, bytes };
  }
  const width = Math.max(5, String(shards.length).length);
  const pad = (i: number) => String(i).padStart(width, '0');
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  let bytes = 0;
  shards.forEach((shard, i) => {
    const name = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    bytes += writeSafetensors(path.join(root, name), shard, opts.metadata).bytes;
    for (const e of shard) weightMap[e.name] = name;
    files.push(path.join(root, name));
  });
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  const tmp = tempName(indexFile);
  fs.writeFileSync(tmp, `${JSON.stringify(index, null, 2)}\n`);
  fs.renameSync(tmp, indexFile);
  fs.rmSync(single, { force: true });
  const kept = new Set(files.map((f) => path.basename(f)));
  for (const name of fs.readdirSync(root)) {
    if (SHARD_NAME.test(name) && !kept.has(name)) fs.rmSync(path.join(root, name), { force: true });
  }
  return { files, totalSize, bytes };
}
