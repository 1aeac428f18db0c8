// The factored checkpoint format (docs/factored-format.md): each decomposed routed-expert matrix W is
// stored as two tensors `<expert prefix>.<proj>.factor_A` [out, r] and `.factor_B` [r, in] (W ≈ A·B);
// a factor shared by several experts (MoE-SVD V sharing, U-trimming prefix sums) is stored ONCE under
// the first expert that uses it, and config.json's `moe_workbench.layers` block maps every expert and
// projection to its tensor names. Router, attention, norms and shared experts keep their HF names.
import { EngineError } from '../errors';
import type { WriteDtype, WriteEntry } from '../io/safetensors-writer';
import type { ExpertWeights, Linear, ModelSpec, MoeLayerView, Tensor2D } from './types';
import { tf } from '../tensor/backend';

export const FORMAT_KEY = 'moe_workbench';
export const PROJ = ['gate', 'up', 'down'] as const;
type Proj = (typeof PROJ)[number];

export interface FactorRef {
  A: string;
  B: string;
}

/** expert index → projection → tensor names */
export interface LayerManifest {
  experts: Record<string, Record<Proj, FactorRef>>;
}

export interface FactoredBlock {
  format: 'factored';
  version: 1;
  method?: string;
  /** layer index → manifest (layers not listed are stored densely under their HF names) */
  layers: Record<string, LayerManifest>;
}

export function factorName(spec: ModelSpec, l: number, e: number, p: Proj, which: 'A' | 'B'): string {
  return `${spec.names.moe(l)}.experts.${e}.${spec.names.expertProj[p]}.factor_${which}`;
}

/** Safetensors entries (each distinct tensor once) and the manifest of one decomposed layer. */
export function layerEntries(
  spec: ModelSpec,
  view: MoeLayerView,
  dtype: WriteDtype,
): { entries: WriteEntry[]; manifest: LayerManifest } {
  const l = view.layer;
  const named = new Map<tf.Tensor, string>();
  const entries: WriteEntry[] = [];
  const manifest: LayerManifest = { experts: {} };
  const nameOf = (t: Tensor2D, wanted: string) => {
    let n = named.get(t);
    if (!n) {
      n = wanted;
      named.set(t, n);
      entries.push({ name: n, dtype, shape: [...t.shape], data: () => t.dataSync() as Float32Array });
    }
    return n;
  };
  view.experts.forEach((ex, e) => {
    const refs = {} as Record<Proj, FactorRef>;
    for (const p of PROJ) {
      const L = ex[p];
      if (L.kind !== 'factored')
        throw new EngineError(`layer ${l} expert ${e} ${p} is not factored`, { field: 'view' });
      refs[p] = {
        A: nameOf(L.A, factorName(spec, l, e, p, 'A')),
        B: nameOf(L.B, factorName(spec, l, e, p, 'B')),
      };
    }
    manifest.experts[String(e)] = refs;
  });
  return { entries, manifest };
}

/** Routed experts of one layer from its manifest; tensors with the same name become one object. */
export function expertsFromManifest(
  manifest: LayerManifest,
  experts: number,
  read: (name: string) => Tensor2D,
  where: string,
): ExpertWeights[] {
  const memo = new Map<string, Tensor2D>();
  const get = (n: string) => {
    let t = memo.get(n);
    if (!t) {
      t = read(n);
      memo.set(n, t);
    }
    return t;
  };
  return Array.from({ length: experts }, (_, e) => {
    const refs = manifest.experts[String(e)];
    if (!refs)
      throw new EngineError(`expert ${e} is missing from the factored manifest`, {
        file: where,
        field: `experts.${e}`,
      });
    const out = {} as ExpertWeights;
    for (const p of PROJ) {
      const r = refs[p];
      if (!r || typeof r.A !== 'string' || typeof r.B !== 'string') {
        throw new EngineError(`expert ${e} has no ${p} factor names`, {
          file: where,
          field: `experts.${e}.${p}`,
        });
      }
      out[p] = { kind: 'factored', A: get(r.A), B: get(r.B) } as Linear;
    }
    return out;
  });
}

/** Parse and check the config.json block; null when the model is a plain HF checkpoint. */
export function parseFactoredBlock(
  config: Record<string, unknown>,
  file: string,
  layers: number,
): FactoredBlock | null {
  const raw = config[FORMAT_KEY] as Partial<FactoredBlock> | undefined;
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || raw.format !== 'factored' || raw.version !== 1) {
    throw new EngineError(
      `${FORMAT_KEY} block must be {"format": "factored", "version": 1, "layers": {...}}`,
      {
        file,
        field: FORMAT_KEY,
      },
    );
  }
  if (!raw.layers || typeof raw.layers !== 'object')
    throw new EngineError('missing layers map', { file, field: `${FORMAT_KEY}.layers` });
  for (const k of Object.keys(raw.layers)) {
    const l = Number(k);
    if (!Number.isInteger(l) || l < 0 || l >= layers) {
      throw new EngineError(`layer key '${k}' is not a layer index in [0, ${layers - 1}]`, {
        file,
        field: `${FORMAT_KEY}.layers`,
      });
    }
  }
  return raw as FactoredBlock;
}

/** HF tensor names a factored layer no longer has (its dense routed-expert weights). */
export function replacedTensorNames(spec: ModelSpec, block: FactoredBlock): Set<string> {
  const out = new Set<string>();
  for (const k of Object.keys(block.layers)) {
    const l = Number(k);
    for (let e = 0; e < spec.experts; e++)
      for (const p of PROJ) out.add(`${spec.names.moe(l)}.experts.${e}.${spec.names.expertProj[p]}.weight`);
  }
  return out;
}

export { tf };
