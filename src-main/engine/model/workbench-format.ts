// The workbench checkpoint format (docs/workbench-format.md): an HF folder whose config.json carries a
// `moe_workbench` block listing the layers a compression changed. Version 2 ("workbench"): a layer is
// `{drop: "ffn"}` (Layer Drop), `{drop: "block"}` (Block Drop) or `{view: ViewManifest}` (its MoE block
// as named tensors: pruned / merged experts, dense, factored or base+delta linears, a lowered top-k).
// Version 1 ("factored": routed-expert factors of full-width layers) still loads, read as version-2
// views. Layers not listed are stored under their plain HF names. No tfjs import.
import { EngineError } from '../errors';
import { checkViewManifest, type LinearRef, type ViewManifest } from './layer-manifest';
import { ffnTensors, hasSharedExpert, hasSharedGate, layerTensorGroups, layerTensors } from './tensor-layout';
import { layerNames, PROJ, type Proj } from './tensor-names';
import type { ModelSpec } from './types';

export const FORMAT_KEY = 'moe_workbench';

export type StoredLayer = { drop: 'ffn' } | { drop: 'block' } | { view: ViewManifest };

/** config.json `moe_workbench`, version 2 (what the exporter writes). */
export interface WorkbenchBlock {
  format: 'workbench';
  version: 2;
  method?: string;
  /** layer index → stored state (layers not listed are plain HF) */
  layers: Record<string, StoredLayer>;
}

/** Version 1 (`factored`): each routed expert of a listed layer as factors A [out, r] · B [r, in]. */
export interface FactoredBlockV1 {
  format: 'factored';
  version: 1;
  method?: string;
  layers: Record<string, { experts: Record<string, Record<Proj, { A: string; B: string }>> }>;
}

/** A checkpoint's stored layout, whatever version it was written in. */
export interface StoredLayout {
  version: 1 | 2;
  method?: string;
  layers: Map<number, StoredLayer>;
}

type ShapeOf = (name: string) => readonly number[] | null;

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** A version-1 layer entry as the view it describes (router and shared expert under their HF names). */
function v1View(spec: ModelSpec, l: number, entry: unknown, file: string, field: string): ViewManifest {
  const experts = isObj(entry) ? entry.experts : undefined;
  if (!isObj(experts)) throw new EngineError(`layer ${l}: expected {"experts": {...}}`, { file, field });
  const n = layerNames(spec, l);
  const m: ViewManifest = {
    router: n.router.weight,
    topK: spec.routing.topK,
    experts: Array.from({ length: spec.experts }, (_, e) => {
      const refs = experts[String(e)];
      if (!isObj(refs))
        throw new EngineError(`expert ${e} is missing from the factored manifest`, {
          file,
          field: `${field}.experts.${e}`,
        });
      const out = {} as Record<Proj, LinearRef>;
      for (const p of PROJ) {
        const r = refs[p];
        if (!isObj(r) || typeof r.A !== 'string' || typeof r.B !== 'string')
          throw new EngineError(`expert ${e} has no ${p} factor names`, {
            file,
            field: `${field}.experts.${e}.${p}`,
          });
        out[p] = { A: r.A, B: r.B };
      }
      return out;
    }),
  };
  if (hasSharedExpert(spec)) {
    m.shared = { gate: { W: n.shared('gate') }, up: { W: n.shared('up') }, down: { W: n.shared('down') } };
    if (hasSharedGate(spec)) m.sharedGate = n.sharedGate;
  }
  return m;
}

function layerIndex(k: string, spec: ModelSpec, file: string): number {
  const l = Number(k);
  if (!/^\d+$/.test(k) || !Number.isInteger(l) || l < 0 || l >= spec.layers)
    throw new EngineError(`layer key '${k}' is not a layer index in [0, ${spec.layers - 1}]`, {
      file,
      field: `${FORMAT_KEY}.layers`,
    });
  return l;
}

/**
 * Parse and check config.json's block against the architecture and the stored tensors (every name a
 * view refers to exists with a consistent shape). Null when the model is a plain HF checkpoint.
 */
export function parseStoredLayout(
  config: Record<string, unknown>,
  spec: ModelSpec,
  shapeOf: ShapeOf,
  file: string,
): StoredLayout | null {
  const raw = config[FORMAT_KEY];
  if (raw === undefined) return null;
  const v2 = isObj(raw) && raw.format === 'workbench' && raw.version === 2;
  const v1 = isObj(raw) && raw.format === 'factored' && raw.version === 1;
  if (!isObj(raw) || !(v1 || v2))
    throw new EngineError(
      `${FORMAT_KEY} block must be {"format": "workbench", "version": 2, "layers": {...}} (or the older {"format": "factored", "version": 1, ...})`,
      { file, field: FORMAT_KEY },
    );
  if (raw.method !== undefined && typeof raw.method !== 'string')
    throw new EngineError('method must be a string', { file, field: `${FORMAT_KEY}.method` });
  if (!isObj(raw.layers))
    throw new EngineError('missing layers map', { file, field: `${FORMAT_KEY}.layers` });
  const layers = new Map<number, StoredLayer>();
  for (const [k, entry] of Object.entries(raw.layers)) {
    const l = layerIndex(k, spec, file);
    const field = `${FORMAT_KEY}.layers.${k}`;
    let stored: StoredLayer;
    if (v1) {
      if (spec.layerKinds[l] !== 'moe')
        throw new EngineError(`layer ${l} is a dense layer; it has no routed experts to factor`, {
          file,
          field,
        });
      const view = v1View(spec, l, entry, file, field);
      checkViewManifest(spec, l, view, shapeOf, file, field);
      stored = { view };
    } else {
      if (!isObj(entry) || 'drop' in entry === 'view' in entry)
        throw new EngineError(`layer ${l}: expected {"drop": "ffn" | "block"} or {"view": {...}}`, {
          file,
          field,
        });
      if ('drop' in entry) {
        if (entry.drop !== 'ffn' && entry.drop !== 'block')
          throw new EngineError(
            `layer ${l}: drop must be "ffn" or "block", got ${JSON.stringify(entry.drop)}`,
            {
              file,
              field: `${field}.drop`,
            },
          );
        stored = { drop: entry.drop };
      } else {
        if (spec.layerKinds[l] !== 'moe')
          throw new EngineError(`layer ${l} is a dense layer; only {"drop": ...} entries are allowed`, {
            file,
            field: `${field}.view`,
          });
        const view = entry.view as ViewManifest;
        checkViewManifest(spec, l, view, shapeOf, file, `${field}.view`);
        stored = { view };
      }
    }
    layers.set(l, stored);
  }
  return { version: v1 ? 1 : 2, ...(typeof raw.method === 'string' ? { method: raw.method } : {}), layers };
}

/** HF tensors of the architecture's table that a stored layer no longer has (the validator skips them). */
export function absentTensorNames(spec: ModelSpec, layout: StoredLayout): Set<string> {
  const out = new Set<string>();
  for (const [l, s] of layout.layers) {
    if ('drop' in s && s.drop === 'block') {
      for (const t of layerTensors(spec, l)) out.add(t.name);
      continue;
    }
    const g = layerTensorGroups(spec, l);
    // a view's tensors (router, experts, shared expert) are checked through its manifest
    for (const t of ffnTensors(g)) out.add(t.name);
    if ('drop' in s) for (const t of g.postNorm) out.add(t.name);
  }
  return out;
}
