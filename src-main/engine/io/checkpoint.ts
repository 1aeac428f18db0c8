// A model folder's weights: `model.safetensors`, or shards listed by `model.safetensors.index.json`.
// Shards are opened lazily (header only) the first time one of their tensors is asked for.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { tf } from '../tensor/backend';
import { parseJson } from './json-depth';
import { SafetensorsFile, type TensorInfo } from './safetensors';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface ReadTensorOptions {
  /** Return the 2-D tensor transposed ([out, in] -> [in, out]), done once here on the host. */
  transpose?: boolean;
}

/**
 * A tensor computed from stored ones when read (a GPTQ linear's dequantized `.weight`, model/gptq-
 * checkpoint.ts): has/info/readF32/readTensor see it as an F32 tensor, names() and the byte counts
 * list only what is stored.
 */
export interface DerivedTensor {
  shape: number[];
  /** the stored tensor it is computed from (errors name its file) */
  from: string;
  read(): Float32Array;
}

export class Checkpoint {
  readonly dir: string;
  /** tensor name -> shard file name (relative to dir). */
  private readonly weightMap: Map<string, string>;
  private readonly shards = new Map<string, SafetensorsFile>();
  private readonly indexPath: string | null;
  private readonly derived = new Map<string, DerivedTensor>();

  private constructor(dir: string, weightMap: Map<string, string>, indexPath: string | null) {
    this.dir = dir;
    this.weightMap = weightMap;
    this.indexPath = indexPath;
  }

  static open(dir: string): Checkpoint {
    const root = path.resolve(dir);
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
      throw new EngineError('model folder not found', {
        file: root,
        hint: 'pass the folder holding config.json and the safetensors weights',
      });
    }
    // Same precedence as transformers: a single model.safetensors wins over an index.
    const single = path.join(root, SINGLE_FILE);
    if (fs.existsSync(single)) {
      const ck = new Checkpoint(root, new Map(), null);
      const f = ck.shard(SINGLE_FILE);
      for (const n of f.names()) ck.weightMap.set(n, SINGLE_FILE);
      return ck;
    }
    const indexPath = path.join(root, INDEX_FILE);
    if (fs.existsSync(indexPath)) return new Checkpoint(root, readIndex(root, indexPath), indexPath);
    const others = fs.readdirSync(root).filter((n) => /\.(safetensors|bin|pt|pth|gguf)$/.test(n));
    throw new EngineError(`no ${SINGLE_FILE} or ${INDEX_FILE} in the folder`, {
      file: root,
      hint: others.length
        ? `found ${others.slice(0, 5).join(', ')}; only Hugging Face safetensors checkpoints are supported (convert with save_pretrained(safe_serialization=True))`
        : 'the folder holds no model weights',
    });
  }

  names(): string[] {
    return [...this.weightMap.keys()];
  }

  has(name: string): boolean {
    return this.weightMap.has(name) || this.derived.has(name);
  }

  /** Register a derived tensor; a stored tensor of the same name is an error (it would be shadowed). */
  derive(name: string, t: DerivedTensor): void {
    if (this.weightMap.has(name) || this.derived.has(name))
      throw new EngineError(`tensor '${name}' is stored and would also be derived from '${t.from}'`, {
        file: this.info(t.from).file,
        field: `tensor '${name}'`,
        hint: 'a quantized linear stores qweight/qzeros/scales/g_idx instead of its weight, not both',
      });
    this.derived.set(name, t);
  }

  /** The stored tensor a derived one is computed from, or null for a stored tensor. */
  derivedFrom(name: string): string | null {
    return this.derived.get(name)?.from ?? null;
  }

  info(name: string): TensorInfo {
    const d = this.derived.get(name);
    if (d) {
      const n = d.shape.reduce((a, b) => a * b, 1);
      return {
        name,
        dtype: 'F32',
        shape: [...d.shape],
        file: this.info(d.from).file,
        byteOffset: -1,
        byteLength: 4 * n,
      };
    }
    const shardName = this.weightMap.get(name);
    if (shardName === undefined) {
      throw new EngineError(`no tensor named '${name}'`, {
        file: this.indexPath ?? path.join(this.dir, SINGLE_FILE),
        field: 'tensor',
      });
    }
    const f = this.shard(shardName);
    if (!f.has(name)) {
      throw new EngineError(
        `${INDEX_FILE} maps tensor '${name}' to this shard, but the shard does not contain it`,
        {
          file: f.path,
          field: `weight_map['${name}']`,
          hint: 'the index and the shards are out of sync; re-download or re-export the checkpoint',
        },
      );
    }
    return f.info(name);
  }

  readF32(name: string): Float32Array {
    const d = this.derived.get(name);
    if (d) return d.read();
    this.info(name);
    return this.shard(this.weightMap.get(name)!).readF32(name);
  }

  readRaw(name: string): Uint8Array {
    if (this.derived.has(name))
      throw new EngineError(
        `tensor '${name}' is computed from '${this.derivedFrom(name)}'; it has no stored bytes`,
        {
          field: `tensor '${name}'`,
        },
      );
    this.info(name);
    return this.shard(this.weightMap.get(name)!).readRaw(name);
  }

  /** An f32 tf.Tensor of the weight; with `transpose`, a 2-D weight comes back as its transpose. */
  readTensor(name: string, opts: ReadTensorOptions = {}): tf.Tensor {
    const info = this.info(name);
    const data = this.readF32(name);
    if (!opts.transpose) return tf.tensor(data, info.shape, 'float32');
    if (info.shape.length !== 2) {
      throw new EngineError(`transpose needs a 2-D tensor, shape is [${info.shape.join(', ')}]`, {
        file: info.file,
        field: `tensor '${name}'`,
      });
    }
    const [rows, cols] = info.shape as [number, number];
    return tf.tensor(transpose2d(data, rows, cols), [cols, rows], 'float32');
  }

  /** Sum of tensor data bytes (opens every shard's header). */
  totalBytes(): number {
    let total = 0;
    for (const n of this.weightMap.keys()) total += this.info(n).byteLength;
    return total;
  }

  /** Tensor count per stored dtype (opens every shard's header). */
  dtypes(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.weightMap.keys()) {
      const d = this.info(n).dtype;
      counts[d] = (counts[d] ?? 0) + 1;
    }
    return counts;
  }

  /** Opens every shard and checks each tensor is where the index says, and only there. */
  validate(): void {
    for (const shardName of new Set(this.weightMap.values())) this.shard(shardName);
    for (const n of this.weightMap.keys()) this.info(n);
  }

  close(): void {
    for (const f of this.shards.values()) f.close();
    this.shards.clear();
  }

  private shard(shardName: string): SafetensorsFile {
    let f = this.shards.get(shardName);
    if (f) return f;
    const file = path.join(this.dir, shardName);
    if (!fs.existsSync(file)) {
      throw new EngineError(`shard '${shardName}' listed in ${INDEX_FILE} is missing`, {
        file,
        hint: 'the download is incomplete',
      });
    }
    f = SafetensorsFile.open(file);
    if (this.indexPath) {
      for (const n of f.names()) {
        const mapped = this.weightMap.get(n);
        if (mapped !== undefined && mapped !== shardName) {
          f.close();
          throw new EngineError(
            `tensor '${n}' is stored in this shard and also mapped to '${mapped}' by ${INDEX_FILE}`,
            {
              file,
              field: `tensor '${n}'`,
              hint: 'a tensor must live in exactly one shard; the checkpoint is inconsistent',
            },
          );
        }
      }
    }
    this.shards.set(shardName, f);
    return f;
  }
}

function readIndex(root: string, indexPath: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = parseJson(fs.readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new EngineError(`not valid JSON (${(e as Error).message})`, { file: indexPath, cause: e });
  }
  const wm = (raw as { weight_map?: unknown } | null)?.weight_map;
  if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) {
    throw new EngineError('missing "weight_map" object (tensor name -> shard file)', {
      file: indexPath,
      field: 'weight_map',
    });
  }
  const map = new Map<string, string>();
  const missing = new Set<string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0 || path.basename(shard) !== shard) {
      throw new EngineError(
        `entry for '${name}' must be a shard file name in the same folder, got ${JSON.stringify(shard)}`,
        {
          file: indexPath,
          field: 'weight_map',
        },
      );
    }
    map.set(name, shard);
  }
  for (const shard of new Set(map.values())) if (!fs.existsSync(path.join(root, shard))) missing.add(shard);
  if (missing.size > 0) {
    const list = [...missing];
    throw new EngineError(
      `shard file${list.length > 1 ? 's' : ''} listed in weight_map missing: ${list.join(', ')}`,
      {
        file: indexPath,
        field: 'weight_map',
        hint: 'the download is incomplete',
      },
    );
  }
  if (map.size === 0) throw new EngineError('weight_map is empty', { file: indexPath, field: 'weight_map' });
  return map;
}

/** Cache-blocked transpose of a row-major [rows, cols] matrix. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[base + c]!;
      }
    }
  }
  return out;
}
