// The runner's work folder: `<workDir>/steps/<s>/layer-XXX.{json,safetensors}` per finished (step,
// layer), written atomically with a checksum, so a resume (or the override store reading a finished
// layer back) never uses a torn or damaged file.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { SafetensorsFile } from '../io/safetensors';
import { writeSafetensors } from '../io/safetensors-writer';
import { type ViewManifest, viewEntries, viewFromManifest } from '../model/layer-manifest';
import type { LoadedModel } from '../model/model';
import type { LayerOverride, Tensor1D, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';

export const stepDir = (w: string, s: number) => path.join(w, 'steps', String(s).padStart(2, '0'));
export const layerFile = (w: string, s: number, l: number, ext: string) =>
  path.join(stepDir(w, s), `layer-${String(l).padStart(3, '0')}.${ext}`);

/** temp file + fsync + rename: a torn write never replaces a good file */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new EngineError(`work file is unreadable (${(e as Error).message})`, {
      file,
      field: 'workDir',
      hint: 'delete the work folder to start the run over',
    });
  }
}

export interface PersistedLayer {
  kind: 'moe' | 'skipFfn' | 'skipBlock';
  manifest?: ViewManifest;
  /** sha256 of the layer's safetensors file: a damaged file is detected on resume, not used */
  sha256?: string;
  record: Record<string, unknown>;
  seconds: number;
}

/** Streamed in 16 MiB chunks: a layer file can be larger than the memory a run may take. */
export function fileSha256(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(16 * 2 ** 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (
      let n = fs.readSync(fd, buf, 0, buf.length, null);
      n > 0;
      n = fs.readSync(fd, buf, 0, buf.length, null)
    )
      h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export function persistLayer(
  model: LoadedModel,
  workDir: string,
  s: number,
  l: number,
  override: LayerOverride,
  record: Record<string, unknown>,
  seconds: number,
): void {
  fs.mkdirSync(stepDir(workDir, s), { recursive: true });
  const meta: PersistedLayer = {
    kind: override.skipBlock ? 'skipBlock' : override.skipFfn ? 'skipFfn' : 'moe',
    record,
    seconds,
  };
  if (meta.kind === 'moe') {
    const { entries, manifest } = viewEntries(model.spec, override.moe!, 'F32');
    const tmp = `${layerFile(workDir, s, l, 'safetensors')}.tmp-${process.pid}`;
    writeSafetensors(tmp, entries);
    meta.sha256 = fileSha256(tmp);
    fs.renameSync(tmp, layerFile(workDir, s, l, 'safetensors'));
    meta.manifest = manifest;
  }
  writeAtomic(layerFile(workDir, s, l, 'json'), JSON.stringify(meta));
}

/** A finished layer's tensor file exists and (when `checksum`) matches the sha256 its meta recorded. */
export function verifyLayerFile(file: string, meta: PersistedLayer, checksum = true): void {
  if (!fs.existsSync(file) || (checksum && meta.sha256 && fileSha256(file) !== meta.sha256))
    throw new EngineError("a finished layer's work file is damaged (checksum mismatch)", {
      file,
      field: 'workDir',
      hint: 'resume recomputes from this layer on; if this persists, delete the work folder',
    });
}

/** `verify`: check the file against its recorded sha256 first (skip only for a file already checked). */
export function loadPersistedLayer(
  model: LoadedModel,
  workDir: string,
  s: number,
  l: number,
  verify = true,
): { override: LayerOverride; meta: PersistedLayer } {
  const jf = layerFile(workDir, s, l, 'json');
  const meta = readJson<PersistedLayer>(jf);
  if (meta.kind === 'skipBlock') return { override: { skipBlock: true }, meta };
  if (meta.kind === 'skipFfn') return { override: { skipFfn: true }, meta };
  const sf = layerFile(workDir, s, l, 'safetensors');
  verifyLayerFile(sf, meta, verify);
  const st = SafetensorsFile.open(sf);
  try {
    const view = viewFromManifest(
      l,
      meta.manifest!,
      model.spec.routing,
      (n) => {
        const shape = st.info(n).shape;
        return (
          shape.length === 1
            ? tf.tensor1d(st.readF32(n))
            : tf.tensor2d(st.readF32(n), shape as [number, number])
        ) as Tensor2D | Tensor1D;
      },
      (data, shape) => tf.tensor2d(data, shape),
    );
    return { override: { moe: view }, meta };
  } finally {
    st.close();
  }
}
