// Writes a compressed model as a checkpoint folder: every non-weight file of the source folder
// (tokenizer, generation config …) copied, config.json carried over, and the weights either in the
// factored format (docs/factored-format.md: factor tensors + the `moe_workbench` config block) or
// densely reconstructed (W = A·B under the original HF names, loadable by any HF tool). Tensors are
// produced one at a time by the streaming safetensors writer.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { INDEX_FILE, SINGLE_FILE } from '../io/checkpoint';
import { type WriteDtype, type WriteEntry, writeShardedCheckpoint } from '../io/safetensors-writer';
import type { LoadedModel } from '../model/model';
import type { LayerOverride } from '../model/types';
import { tf } from '../tensor/backend';
import { type FactoredBlock, FORMAT_KEY, layerEntries, PROJ } from '../model/factored-format';

export interface ExportOptions {
  format: 'factored' | 'dense';
  dtype?: WriteDtype;
  method?: string;
  /** shard size limit (default 4 GiB) */
  maxShardBytes?: number;
}

export interface ExportResult {
  outDir: string;
  files: string[];
  params: number;
  bytes: number;
}

/** The dtype holding most bytes in the source, mapped to a writable one. */
export function sourceDtype(model: LoadedModel): WriteDtype {
  const by = new Map<string, number>();
  for (const n of model.checkpoint.names()) {
    const i = model.checkpoint.info(n);
    by.set(i.dtype, (by.get(i.dtype) ?? 0) + i.byteLength);
  }
  const top = [...by].sort((a, b) => b[1] - a[1])[0]?.[0];
  return top === 'BF16' || top === 'F16' ? top : 'F32';
}

export function exportModel(
  model: LoadedModel,
  overrides: ReadonlyMap<number, LayerOverride>,
  outDir: string,
  opts: ExportOptions,
): ExportResult {
  const out = path.resolve(outDir);
  if (path.resolve(model.dir) === out)
    throw new EngineError('export folder must differ from the source model folder', {
      file: out,
      field: 'outDir',
    });
  fs.mkdirSync(out, { recursive: true });
  const { spec, checkpoint: ck } = model;
  const dtype = opts.dtype ?? sourceDtype(model);
  const decomposed = [...overrides].filter(([, o]) => o.moe?.experts.some((e) => e.gate.kind === 'factored'));
  const replaced = new Map<string, () => Float32Array>();
  const extra: WriteEntry[] = [];
  const block: FactoredBlock = {
    format: 'factored',
    version: 1,
    ...(opts.method ? { method: opts.method } : {}),
    layers: {},
  };
  for (const [l, o] of decomposed) {
    const view = o.moe!;
    view.experts.forEach((ex, e) => {
      for (const p of PROJ) {
        const name = `${spec.names.moe(l)}.experts.${e}.${spec.names.expertProj[p]}.weight`;
        const L = ex[p];
        replaced.set(name, () => {
          if (L.kind !== 'factored')
            return L.kind === 'dense' ? (L.w.dataSync() as Float32Array) : new Float32Array();
          const w = tf.tidy(() => tf.matMul(L.A, L.B));
          const d = w.dataSync() as Float32Array;
          w.dispose();
          return d;
        });
      }
    });
    if (opts.format === 'factored') {
      const { entries, manifest } = layerEntries(spec, view, dtype);
      extra.push(...entries);
      block.layers[String(l)] = manifest;
    }
  }
  // a factored source's own factor tensors are rewritten from the views, never copied by name
  const sourceFactors = new Set<string>();
  const src = (model as LoadedModel & { factored?: FactoredBlock }).factored;
  for (const m of Object.values(src?.layers ?? {}))
    for (const e of Object.values(m.experts)) for (const p of PROJ) sourceFactors.add(e[p].A).add(e[p].B);
  const entries: WriteEntry[] = [];
  for (const name of ck.names()) {
    if (sourceFactors.has(name)) continue;
    const info = ck.info(name);
    const r = replaced.get(name);
    if (r && opts.format === 'factored') continue;
    entries.push({ name, dtype, shape: info.shape, data: r ?? (() => ck.readF32(name)) });
  }
  if (opts.format === 'dense') {
    for (const [name, data] of replaced) {
      if (ck.has(name)) continue;
      const [out, inp] = name.includes(`.${spec.names.expertProj.down}.`)
        ? [spec.hidden, spec.moeIntermediate]
        : [spec.moeIntermediate, spec.hidden];
      entries.push({ name, dtype, shape: [out, inp], data });
    }
  }
  entries.push(...extra);
  // copy side files (tokenizer, generation config, …), never stale weights
  for (const f of fs.readdirSync(model.dir)) {
    const src = path.join(model.dir, f);
    if (
      !fs.statSync(src).isFile() ||
      f.endsWith('.safetensors') ||
      f === INDEX_FILE ||
      f === SINGLE_FILE ||
      f === 'config.json'
    )
      continue;
    fs.copyFileSync(src, path.join(out, f));
  }
  const config = JSON.parse(fs.readFileSync(model.configFile, 'utf8')) as Record<string, unknown>;
  delete config[FORMAT_KEY];
  if (opts.format === 'factored' && decomposed.length > 0) config[FORMAT_KEY] = block;
  if (dtype !== sourceDtype(model))
    config.torch_dtype = dtype === 'BF16' ? 'bfloat16' : dtype === 'F16' ? 'float16' : 'float32';
  const w = writeShardedCheckpoint(out, entries, { maxShardBytes: opts.maxShardBytes ?? 4 * 2 ** 30 });
  fs.writeFileSync(path.join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const params = entries.reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  return { outDir: out, files: w.files, params, bytes: w.bytes };
}
