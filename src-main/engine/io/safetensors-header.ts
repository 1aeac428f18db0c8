// The safetensors header: dtype table, parsing and validation. Layout of a file:
//   u64 LE header length N | N bytes of UTF-8 JSON | data section
// JSON: { "<tensor>": {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string} },
// offsets relative to the start of the data section.
import { EngineError } from '../errors';
import { parseJson } from './json-depth';

export const SAFETENSORS_DTYPES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F64', 'F32', 'F16', 'BF16']);

/**
 * The dtype holding most bytes among the given tensors (a checkpoint's storage dtype). Float tensors
 * decide when there are any: a GPTQ checkpoint's int32 packs (often most of its bytes) are not the
 * dtype its other weights are stored in.
 */
export function dominantDtype(tensors: Iterable<{ dtype: string; byteLength: number }>): string | null {
  const by = new Map<string, number>();
  for (const t of tensors) by.set(t.dtype, (by.get(t.dtype) ?? 0) + t.byteLength);
  const all = [...by];
  const floats = all.filter(([d]) => FLOAT_DTYPES.has(d));
  return (floats.length > 0 ? floats : all).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

/** The writable float dtype that keeps a source dtype: 16-bit floats stay, everything else is F32. */
export function storageDtype(dtype: string | null): 'F32' | 'F16' | 'BF16' {
  return dtype === 'BF16' || dtype === 'F16' ? dtype : 'F32';
}

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute path of the file holding the tensor. */
  file: string;
  /** Absolute byte offset of the tensor's data in `file`. */
  byteOffset: number;
  byteLength: number;
}

/** Headers are a few KB to a few MB in practice; refuse anything larger before allocating it. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface ParsedHeader {
  headerLength: number;
  dataStart: number;
  metadata: Record<string, string>;
  tensors: Map<string, TensorInfo>;
}

export function isSafetensorsDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, d);
}

/** Reads the 8-byte prefix; rejects a length that is impossible before anything is allocated. */
export function checkHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.length < 8) {
    throw new EngineError(`file is ${fileSize} bytes, shorter than the 8-byte header length prefix`, {
      file,
      field: 'header',
      hint: 'the file is truncated or not a safetensors file',
    });
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new EngineError(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte sanity limit`, {
      file,
      field: 'header length',
      hint: 'not a safetensors file, or a corrupted one',
    });
  }
  if (n > BigInt(fileSize - 8)) {
    throw new EngineError(`header length ${n} is beyond the end of the ${fileSize}-byte file`, {
      file,
      field: 'header length',
      hint: 'the file is truncated',
    });
  }
  return Number(n);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates the JSON header. `fileSize` bounds every tensor's byte range. */
export function parseHeader(json: Uint8Array, fileSize: number, file: string): ParsedHeader {
  const headerLength = json.length;
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw new EngineError('header is not valid UTF-8', { file, field: 'header' });
  }
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch (e) {
    throw new EngineError(`header is not valid JSON (${(e as Error).message})`, {
      file,
      field: 'header',
      hint: 'the file is corrupted or not a safetensors file',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new EngineError(
      'header JSON must be an object mapping tensor names to {dtype, shape, data_offsets}',
      {
        file,
        field: 'header',
      },
    );
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new EngineError('must be an object of string -> string', { file, field: '__metadata__' });
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new EngineError(`value of '${k}' is ${JSON.stringify(v)}; metadata values must be strings`, {
            file,
            field: '__metadata__',
          });
        }
        metadata[k] = v;
      }
      continue;
    }
    tensors.set(name, parseEntry(name, entry, file, dataStart, dataLength));
  }
  checkOverlaps(tensors, file, dataStart);
  return { headerLength, dataStart, metadata, tensors };
}

function parseEntry(
  name: string,
  entry: unknown,
  file: string,
  dataStart: number,
  dataLength: number,
): TensorInfo {
  const field = `tensor '${name}'`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new EngineError('entry must be an object {dtype, shape, data_offsets}', { file, field });
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) {
    throw new EngineError(
      `unknown dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`,
      { file, field: `${field}.dtype` },
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
    throw new EngineError(`shape ${JSON.stringify(shape)} is not an array of non-negative integers`, {
      file,
      field: `${field}.shape`,
    });
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
    throw new EngineError(
      `data_offsets ${JSON.stringify(offsets)} must be [begin, end] non-negative integers`,
      {
        file,
        field: `${field}.data_offsets`,
      },
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin || end > dataLength) {
    throw new EngineError(
      `data_offsets [${begin}, ${end}] fall outside the data section (${dataLength} bytes after the header)`,
      { file, field: `${field}.data_offsets`, hint: end > dataLength ? 'the file is truncated' : undefined },
    );
  }
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  const expected = count * SAFETENSORS_DTYPES[dtype];
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw new EngineError(
      `shape [${shape.join(', ')}] x ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`,
      { file, field: field },
    );
  }
  return { name, dtype, shape: [...shape], file, byteOffset: dataStart + begin, byteLength: end - begin };
}

function checkOverlaps(tensors: Map<string, TensorInfo>, file: string, dataStart: number): void {
  const sorted = [...tensors.values()]
    .filter((t) => t.byteLength > 0)
    .sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.byteOffset < prev.byteOffset + prev.byteLength) {
      const range = (t: TensorInfo) =>
        `[${t.byteOffset - dataStart}, ${t.byteOffset - dataStart + t.byteLength}]`;
      throw new EngineError(`tensors '${prev.name}' ${range(prev)} and '${cur.name}' ${range(cur)} overlap`, {
        file,
        field: 'data_offsets',
      });
    }
  }
}
