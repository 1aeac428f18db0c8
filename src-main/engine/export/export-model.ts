// Writes a compressed model as a checkpoint folder: every non-weight file of the source folder
// (tokenizer, generation config …) copied, config.json carried over, and the weights either
//  * 'factored': the workbench format (docs/workbench-format.md) — every changed layer listed in the
//    config's `moe_workbench` block (a view of named tensors, or a dropped sub-layer / block), the
//    other layers under their HF names; any mix of pruned, merged, factored and dropped layers; or
//  * 'dense': a plain Hugging Face checkpoint (factored / delta linears rebuilt as W = A·B or
//    base + A·B, experts renumbered, the architecture's config keys rewritten by its adapter, Block
//    Drop's remaining layers renumbered) when the layout can be said in HF terms. When it cannot (a
//    Layer Drop, different expert counts per layer, a layer pattern the config cannot express) the
//    workbench format is written instead and `fallbackReason` says why — never a wrong checkpoint.
// A layer the caller does not replace keeps its stored state (a workbench source stays compressed).
// Tensors are produced one at a time by the streaming safetensors writer. A run's finished layers
// (a LayerOverrideStore's persisted ones) are read from their work files tensor by tensor like a
// stored layer, never loaded as views: export holds one tensor, not every compressed layer, and
// writes the same bytes as from the in-memory views.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { INDEX_FILE, SINGLE_FILE } from '../io/checkpoint';
import { dominantDtype, storageDtype } from '../io/safetensors-header';
import { type WriteDtype, type WriteEntry, writeShardedCheckpoint } from '../io/safetensors-writer';
import { dequantize } from '../methods/quant/quantized-weight';
import { QUANT_CONFIG_KEY } from '../model/gptq-checkpoint';
import { type LinearRef, type ViewManifest, viewEntries } from '../model/layer-manifest';
import type { LoadedModel } from '../model/model';
import { adapterFor } from '../model/registry';
import {
  type ExpectedTensor,
  ffnTensors,
  globalTensors,
  hasSharedExpert,
  hasSharedGate,
  layerTensorGroups,
  layerTensors,
} from '../model/tensor-layout';
import { layerNames, PROJ, type Proj, renumberLayer } from '../model/tensor-names';
import type { LayerOverride, Linear, ModelSpec, MoeLayerView, Tensor2D } from '../model/types';
import { FORMAT_KEY, type StoredLayer, type WorkbenchBlock } from '../model/workbench-format';
import { LayerOverrideStore } from '../pipeline/override-store';
import { tf } from '../tensor/backend';
import { GptqPacker, type GptqSummary, type LinearSource } from './gptq-export';
import { type TensorReader, WorkFileReaders } from './tensor-reader';

export type ExportFormat = 'factored' | 'dense' | 'gptq';

export interface ExportOptions {
  /**
   * 'factored': the workbench format; 'dense': a plain HF checkpoint when the layout allows it;
   * 'gptq': that checkpoint with its quantized linears in the AutoGPTQ layout (export/gptq-export.ts)
   */
  format: ExportFormat;
  dtype?: WriteDtype;
  method?: string;
  /** shard size limit (default 4 GiB) */
  maxShardBytes?: number;
}

export interface ExportResult {
  outDir: string;
  files: string[];
  /** parameters stored (each tensor once) */
  params: number;
  bytes: number;
  /** what was written: 'factored' = the workbench format (plain HF when nothing changed), 'dense' = plain HF */
  format: ExportFormat;
  /** set when 'dense' or 'gptq' was asked for but the layout has no HF form: the workbench format was written */
  fallbackReason?: string;
  /** what the 'gptq' format wrote (quantization_config in brief) */
  gptq?: GptqSummary;
}

/** The dtype holding most bytes in the source, mapped to a writable one. */
export function sourceDtype(model: LoadedModel): WriteDtype {
  const ck = model.checkpoint;
  return storageDtype(dominantDtype(ck.names().map((n) => ck.info(n))));
}

/**
 * What one layer holds at export time: the caller's override, else the source's stored state. A
 * 'stored' layer is a manifest and named tensors read from `tensors`: the source checkpoint, or the
 * work file of a layer the run persisted.
 */
type LayerState =
  | { kind: 'plain' }
  | { kind: 'drop-ffn' }
  | { kind: 'drop-block' }
  | { kind: 'view'; view: MoeLayerView }
  | { kind: 'stored'; manifest: ViewManifest; tensors: TensorReader };

function layerState(
  model: LoadedModel,
  l: number,
  overrides: ReadonlyMap<number, LayerOverride>,
  files: WorkFileReaders,
): LayerState {
  const moeOnly = () => {
    if (model.spec.layerKinds[l] !== 'moe')
      throw new EngineError(`layer ${l} is a dense layer; a MoE view cannot replace it`, {
        field: `layer ${l} override`,
      });
  };
  const at = overrides instanceof LayerOverrideStore ? overrides.persistedAt(l) : null;
  if (at) {
    moeOnly();
    return { kind: 'stored', manifest: at.manifest, tensors: files.reader(at.file) };
  }
  const o = overrides.get(l);
  if (o?.skipBlock) return { kind: 'drop-block' };
  if (o?.skipFfn) return { kind: 'drop-ffn' };
  if (o?.moe) {
    moeOnly();
    return { kind: 'view', view: o.moe };
  }
  const s: StoredLayer | undefined = model.stored?.layers.get(l);
  if (!s) return { kind: 'plain' };
  if ('drop' in s) return s.drop === 'block' ? { kind: 'drop-block' } : { kind: 'drop-ffn' };
  return { kind: 'stored', manifest: s.view, tensors: model.checkpoint };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// ---- tensor producers ----------------------------------------------------------------------------

/** W of a linear, computed in f32 (W, A·B or base + A·B). */
function denseOf(L: Linear): Float32Array {
  // a quantized linear exports densely as its exact dequantization (the GPTQ layout is export.format gptq)
  if (L.kind === 'dense' || L.kind === 'quantized') return L.w.dataSync() as Float32Array;
  const w = tf.tidy(() =>
    L.kind === 'factored' ? tf.matMul(L.A, L.B) : tf.add(L.base, tf.matMul(L.A, L.B)),
  );
  const d = w.dataSync() as Float32Array;
  w.dispose();
  return d;
}

/** W of a stored linear, its parts read for this one tensor. */
function denseOfRef(ck: TensorReader, r: LinearRef): Float32Array {
  if ('W' in r) return ck.readF32(r.W);
  if ('quant' in r) {
    const q = r.quant;
    const codes = ck.readF32(q.codes);
    const gIdx = ck.readF32(q.gIdx);
    return dequantize({
      ...q,
      outFeatures: codes.length / gIdx.length,
      inFeatures: gIdx.length,
      codes: Uint8Array.from(codes),
      scales: ck.readF32(q.scales),
      zeros: Int32Array.from(ck.readF32(q.zeros)),
      gIdx: Int32Array.from(gIdx),
    });
  }
  const read = (n: string) => ck.readTensor(n) as Tensor2D;
  const parts = 'base' in r ? [read(r.base), read(r.A), read(r.B)] : [read(r.A), read(r.B)];
  try {
    const L: Linear =
      parts.length === 3
        ? { kind: 'delta', base: parts[0]!, A: parts[1]!, B: parts[2]! }
        : { kind: 'factored', A: parts[0]!, B: parts[1]! };
    return denseOf(L);
  } finally {
    tf.dispose(parts);
  }
}

function linearShape(L: Linear): [number, number] {
  if (L.kind === 'dense' || L.kind === 'quantized') return L.w.shape;
  if (L.kind === 'delta') return L.base.shape;
  return [L.A.shape[0], L.B.shape[1]];
}

// ---- the routed block of a view / stored layer, uniformly -------------------------------------------

interface BlockSummary {
  experts: number;
  topK: number;
  routerBias: boolean;
  bias: boolean;
  shared: boolean;
  sharedGate: boolean;
  /** [gate/up out, down in] of each routed expert, and of the shared expert */
  expertWidths: number[];
  sharedWidth: number | null;
}

function summarizeView(v: MoeLayerView): BlockSummary {
  const width = (e: { gate: Linear; down: Linear }) => [linearShape(e.gate)[0], linearShape(e.down)[1]];
  const hasBias = (e: { gate: Linear; up: Linear; down: Linear }) =>
    PROJ.some((p) => 'bias' in e[p] && (e[p] as { bias?: unknown }).bias !== undefined);
  return {
    experts: v.experts.length,
    topK: v.routing.topK,
    routerBias: v.routerBias !== undefined,
    bias: v.experts.some(hasBias) || (v.shared ? hasBias(v.shared) : false),
    shared: v.shared !== undefined,
    sharedGate: v.shared?.gateWeight !== undefined,
    expertWidths: v.experts.flatMap(width),
    sharedWidth: v.shared ? linearShape(v.shared.gate)[0] : null,
  };
}

function summarizeManifest(model: LoadedModel, m: ViewManifest, ck: TensorReader): BlockSummary {
  const hasBias = (e: Record<Proj, LinearRef>) => PROJ.some((p) => 'bias' in e[p] && e[p].bias !== undefined);
  const out = (r: LinearRef) =>
    ck.info('W' in r ? r.W : 'quant' in r ? r.quant.codes : 'base' in r ? r.base : r.A).shape[0]!;
  return {
    experts: m.experts.length,
    topK: m.topK,
    routerBias: m.routerBias !== undefined,
    bias: m.experts.some(hasBias) || (m.shared ? hasBias(m.shared) : false),
    shared: m.shared !== undefined,
    sharedGate: m.sharedGate !== undefined,
    // checkViewManifest already tied these to the architecture's widths
    expertWidths: m.experts.flatMap((e) => [out(e.gate), model.spec.moeIntermediate]),
    sharedWidth: m.shared ? out(m.shared.gate) : null,
  };
}

/** Why the layout has no plain HF form (null when it has one); also its kept layers, expert count and top-k. */
function denseLayout(
  model: LoadedModel,
  states: LayerState[],
): { reason: string } | { keptLayers: number[]; experts: number; topK: number } {
  const { spec } = model;
  const dropped = states.flatMap((s, l) => (s.kind === 'drop-ffn' ? [l] : []));
  if (dropped.length > 0)
    return {
      reason: `Layer Drop removed the MoE sub-layer of layer(s) ${dropped.join(', ')}; a plain HF checkpoint cannot omit it`,
    };
  const keptLayers = states.flatMap((s, l) => (s.kind === 'drop-block' ? [] : [l]));
  const counts: { l: number; experts: number; topK: number }[] = [];
  for (const l of keptLayers) {
    if (spec.layerKinds[l] !== 'moe') continue;
    const s = states[l]!;
    if (s.kind === 'plain') {
      counts.push({ l, experts: spec.experts, topK: spec.routing.topK });
      continue;
    }
    if (s.kind !== 'view' && s.kind !== 'stored') continue;
    const b = s.kind === 'view' ? summarizeView(s.view) : summarizeManifest(model, s.manifest, s.tensors);
    counts.push({ l, experts: b.experts, topK: b.topK });
    const dyn = s.kind === 'view' ? s.view.dynamicPrune : s.manifest.dynamicPrune;
    if (dyn && dyn.remove > 0)
      return {
        reason: `layer ${l}: D²-MoE prunes ${dyn.remove} base channels per batch, which a dense HF layer cannot`,
      };
    if (b.routerBias)
      return { reason: `layer ${l}: the router has a bias, which the HF architecture does not` };
    if (b.bias)
      return { reason: `layer ${l}: an expert linear has a bias, which the HF architecture does not` };
    if (b.expertWidths.some((w) => w !== spec.moeIntermediate))
      return {
        reason: `layer ${l}: expert intermediate width differs from the config's ${spec.moeIntermediate}`,
      };
    if (b.shared !== hasSharedExpert(spec) || b.sharedGate !== hasSharedGate(spec))
      return { reason: `layer ${l}: the shared expert (or its gate) was added or removed` };
    if (b.sharedWidth !== null && b.sharedWidth !== spec.sharedIntermediate)
      return {
        reason: `layer ${l}: shared expert width differs from the config's ${spec.sharedIntermediate}`,
      };
  }
  const ex = new Set(counts.map((c) => c.experts));
  if (ex.size > 1)
    return {
      reason: `MoE layers keep different expert counts (${counts.map((c) => `layer ${c.l}: ${c.experts}`).join(', ')}); an HF config has one count for all layers`,
    };
  const tk = new Set(counts.map((c) => c.topK));
  if (tk.size > 1)
    return {
      reason: `MoE layers route to different top-k (${counts.map((c) => `layer ${c.l}: ${c.topK}`).join(', ')}); an HF config has one top-k`,
    };
  return {
    keptLayers,
    experts: counts[0]?.experts ?? spec.experts,
    topK: counts[0]?.topK ?? spec.routing.topK,
  };
}

// ---- writers ------------------------------------------------------------------------------------

function fromCheckpoint(
  model: LoadedModel,
  ts: ExpectedTensor[],
  dtype: WriteDtype,
  rename?: (n: string) => string,
): WriteEntry[] {
  const ck = model.checkpoint;
  return ts.map((t) => ({
    name: rename ? rename(t.name) : t.name,
    dtype,
    shape: [...ck.info(t.name).shape],
    data: () => ck.readF32(t.name),
  }));
}

function globalsSplit(spec: ModelSpec): { head: ExpectedTensor[]; tail: ExpectedTensor[] } {
  const g = globalTensors(spec);
  return {
    head: g.filter((t) => t.name === spec.names.embed),
    tail: g.filter((t) => t.name !== spec.names.embed),
  };
}

/**
 * A stored layer's tensors as viewEntries writes the view they describe: the same order (router,
 * routed experts, router bias, shared expert, its gate; each tensor once) and dtypes (a quantized
 * linear's codes, scales and zeros in F16, g_idx in F32, exact whatever `dtype`), so a persisted
 * layer exports byte for byte as its in-memory view would.
 */
function storedEntries(m: ViewManifest, ck: TensorReader, dtype: WriteDtype): WriteEntry[] {
  const entries: WriteEntry[] = [];
  const seen = new Set<string>();
  const add = (name: string | undefined, d: WriteDtype = dtype) => {
    if (name === undefined || seen.has(name)) return;
    seen.add(name);
    entries.push({ name, dtype: d, shape: [...ck.info(name).shape], data: () => ck.readF32(name) });
  };
  const lin = (r: LinearRef) => {
    if ('W' in r) {
      add(r.W);
      add(r.bias);
    } else if ('quant' in r) {
      add(r.quant.codes, 'F16');
      add(r.quant.scales, 'F16');
      add(r.quant.zeros, 'F16');
      add(r.quant.gIdx, 'F32');
      add(r.bias);
    } else if ('base' in r) {
      add(r.base);
      add(r.A);
      add(r.B);
    } else {
      add(r.A);
      add(r.B);
      add(r.bias);
    }
  };
  add(m.router);
  for (const e of m.experts) for (const p of PROJ) lin(e[p]);
  add(m.routerBias);
  if (m.shared) {
    for (const p of PROJ) lin(m.shared[p]);
    add(m.sharedGate);
  }
  return entries;
}

/** Workbench-format entries and block (layers listed only where something changed). */
function workbenchEntries(
  model: LoadedModel,
  states: LayerState[],
  dtype: WriteDtype,
  method: string | undefined,
): { entries: WriteEntry[]; block: WorkbenchBlock } {
  const { spec } = model;
  const { head, tail } = globalsSplit(spec);
  const entries = fromCheckpoint(model, head, dtype);
  const block: WorkbenchBlock = {
    format: 'workbench',
    version: 2,
    ...(method ? { method } : {}),
    layers: {},
  };
  states.forEach((s, l) => {
    const g = layerTensorGroups(spec, l);
    switch (s.kind) {
      case 'plain':
        entries.push(...fromCheckpoint(model, layerTensors(spec, l), dtype));
        return;
      case 'drop-block':
        block.layers[String(l)] = { drop: 'block' };
        return;
      case 'drop-ffn':
        entries.push(...fromCheckpoint(model, g.attention, dtype));
        block.layers[String(l)] = { drop: 'ffn' };
        return;
      case 'view': {
        entries.push(...fromCheckpoint(model, [...g.attention, ...g.postNorm], dtype));
        const v = viewEntries(spec, { ...s.view, layer: l }, dtype);
        entries.push(...v.entries);
        block.layers[String(l)] = { view: v.manifest };
        return;
      }
      case 'stored': {
        entries.push(...fromCheckpoint(model, [...g.attention, ...g.postNorm], dtype));
        entries.push(...storedEntries(s.manifest, s.tensors, dtype));
        block.layers[String(l)] = { view: structuredClone(s.manifest) };
        return;
      }
    }
  });
  entries.push(...fromCheckpoint(model, tail, dtype));
  return { entries, block };
}

/** Plain HF entries: kept layers renumbered 0..L'-1, every routed block rebuilt densely. */
function denseEntries(
  model: LoadedModel,
  states: LayerState[],
  keptLayers: number[],
  dtype: WriteDtype,
  packer?: GptqPacker,
): WriteEntry[] {
  const { spec } = model;
  const { head, tail } = globalsSplit(spec);
  const entries = fromCheckpoint(model, head, dtype);
  // with a packer (format 'gptq') a quantized linear becomes its four GPTQ tensors
  const packed = (e: WriteEntry, src: LinearSource) => (packer ? packer.entries(e.name, src, e) : [e]);
  const fromCk = (ts: ExpectedTensor[], rename: (n: string) => string) =>
    fromCheckpoint(model, ts, dtype, rename).flatMap((e, k) => packed(e, { kind: 'ck', name: ts[k]!.name }));
  keptLayers.forEach((l, i) => {
    const s = states[l]!;
    const g = layerTensorGroups(spec, l);
    const rename = (n: string) => renumberLayer(spec, n, l, i) ?? n;
    entries.push(...fromCk([...g.attention, ...g.postNorm], rename));
    if (s.kind === 'plain') {
      entries.push(...fromCk(ffnTensors(g), rename));
      return;
    }
    const n = layerNames(spec, i);
    const h = spec.hidden;
    const mat = (name: string, shape: number[], data: () => Float32Array): WriteEntry => ({
      name,
      dtype,
      shape,
      data,
    });
    const shapeOf = (p: Proj, I: number) => (p === 'down' ? [h, I] : [I, h]);
    const I = spec.moeIntermediate;
    const Is = spec.sharedIntermediate;
    if (s.kind === 'view') {
      const v = s.view;
      entries.push(mat(n.router.weight, [...v.router.shape], () => v.router.dataSync() as Float32Array));
      v.experts.forEach((ex, e) => {
        for (const p of PROJ)
          entries.push(
            ...packed(
              mat(n.expert(e, p), shapeOf(p, I), () => denseOf(ex[p])),
              { kind: 'linear', L: ex[p] },
            ),
          );
      });
      if (v.shared) {
        const sh = v.shared;
        for (const p of PROJ)
          entries.push(
            ...packed(
              mat(n.shared(p), shapeOf(p, Is), () => denseOf(sh[p])),
              { kind: 'linear', L: sh[p] },
            ),
          );
        const gw = sh.gateWeight;
        if (gw) entries.push(mat(n.sharedGate, [...gw.shape], () => gw.dataSync() as Float32Array));
      }
      return;
    }
    if (s.kind !== 'stored') return;
    const m = s.manifest;
    const ck = s.tensors;
    entries.push(mat(n.router.weight, [...ck.info(m.router).shape], () => ck.readF32(m.router)));
    m.experts.forEach((ex, e) => {
      for (const p of PROJ)
        entries.push(
          ...packed(
            mat(n.expert(e, p), shapeOf(p, I), () => denseOfRef(ck, ex[p])),
            { kind: 'ref', r: ex[p], tensors: ck },
          ),
        );
    });
    if (m.shared) {
      const sh = m.shared;
      for (const p of PROJ)
        entries.push(
          ...packed(
            mat(n.shared(p), shapeOf(p, Is), () => denseOfRef(ck, sh[p])),
            { kind: 'ref', r: sh[p], tensors: ck },
          ),
        );
      const gw = m.sharedGate;
      if (gw) entries.push(mat(n.sharedGate, [...ck.info(gw).shape], () => ck.readF32(gw)));
    }
  });
  entries.push(...fromCheckpoint(model, tail, dtype));
  return entries;
}

function readConfig(model: LoadedModel): Record<string, unknown> {
  const config = JSON.parse(fs.readFileSync(model.configFile, 'utf8')) as Record<string, unknown>;
  delete config[FORMAT_KEY];
  // a GPTQ source's block describes its packed tensors; only the 'gptq' format writes (its own) one
  delete config[QUANT_CONFIG_KEY];
  return config;
}

/** Some linear the export would write is quantized (a Q step's view, a stored one, or a GPTQ source's). */
function hasQuantized(model: LoadedModel, states: LayerState[]): boolean {
  const lins = (e: { gate: unknown; up: unknown; down: unknown }) => PROJ.map((p) => e[p]);
  return states.some((s, l) => {
    if (s.kind === 'view')
      return [...s.view.experts, ...(s.view.shared ? [s.view.shared] : [])]
        .flatMap(lins)
        .some((L) => (L as Linear).kind === 'quantized');
    if (s.kind === 'stored')
      return [...s.manifest.experts, ...(s.manifest.shared ? [s.manifest.shared] : [])]
        .flatMap(lins)
        .some((r) => 'quant' in (r as LinearRef));
    if (s.kind === 'drop-block') return false;
    const p = `${model.spec.names.layer(l)}.`;
    return [...(model.gptq?.linears.keys() ?? [])].some((n) => n.startsWith(p));
  });
}

/**
 * `overrides` may be a run's LayerOverrideStore: its persisted layers are read from the work files
 * (get is never called for them), so any residentLimit will do and none is loaded.
 */
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
  const dtype = opts.dtype ?? sourceDtype(model);
  // the work files persisted layers are read from, each opened when written and closed after
  const files = new WorkFileReaders();
  try {
    return exportStates(model, overrides, files, out, opts, dtype);
  } finally {
    files.close();
  }
}

function exportStates(
  model: LoadedModel,
  overrides: ReadonlyMap<number, LayerOverride>,
  files: WorkFileReaders,
  out: string,
  opts: ExportOptions,
  dtype: WriteDtype,
): ExportResult {
  const { spec } = model;
  const states = Array.from({ length: spec.layers }, (_, l) => layerState(model, l, overrides, files));
  const method = opts.method ?? model.stored?.method;

  const written = ((): {
    entries: WriteEntry[];
    config: Record<string, unknown>;
    format: ExportFormat;
    fallbackReason?: string;
    gptq?: GptqSummary;
    packer?: GptqPacker;
  } => {
    let fallbackReason: string | undefined;
    if (opts.format === 'gptq') {
      if (!hasQuantized(model, states))
        throw new EngineError('format "gptq" needs a quantized model, and nothing in it is quantized', {
          field: 'export.format',
          hint: 'add an rtn or gptq step, or export as "dense" or "factored"',
        });
      const layout = denseLayout(model, states);
      const hf =
        'reason' in layout
          ? layout
          : adapterFor(spec.modelType, model.configFile).hfConfig(readConfig(model), { spec, ...layout });
      if (!('reason' in hf) && !('reason' in layout)) {
        const packer = new GptqPacker(model);
        const entries = denseEntries(model, states, layout.keptLayers, dtype, packer);
        const L = layout.keptLayers.length;
        const inBlock = (n: string) =>
          Array.from({ length: L }, (_, i) => spec.names.layer(i)).some((p) => n.startsWith(`${p}.`));
        const linears = entries.flatMap((e) =>
          e.name.endsWith('.qweight')
            ? [e.name.slice(0, -'.qweight'.length)]
            : e.name.endsWith('.weight') && e.shape.length === 2 && inBlock(e.name)
              ? [e.name.slice(0, -'.weight'.length)]
              : [],
        );
        const q = packer.quantizationConfig(linears, L, (i) => spec.names.layer(i));
        return {
          entries,
          config: { ...hf.config, [QUANT_CONFIG_KEY]: q.config },
          format: 'gptq',
          gptq: q.summary,
          packer,
        };
      }
      fallbackReason = (hf as { reason: string }).reason;
    }
    if (opts.format === 'dense') {
      const layout = denseLayout(model, states);
      const hf =
        'reason' in layout
          ? layout
          : adapterFor(spec.modelType, model.configFile).hfConfig(readConfig(model), { spec, ...layout });
      if (!('reason' in hf) && !('reason' in layout))
        return {
          entries: denseEntries(model, states, layout.keptLayers, dtype),
          config: hf.config,
          format: 'dense',
        };
      fallbackReason = (hf as { reason: string }).reason;
    }
    const w = workbenchEntries(model, states, dtype, method);
    const config = readConfig(model);
    if (Object.keys(w.block.layers).length > 0) config[FORMAT_KEY] = w.block;
    return { entries: w.entries, config, format: 'factored', ...(fallbackReason ? { fallbackReason } : {}) };
  })();
  const { entries, config, format, fallbackReason, gptq, packer } = written;
  fs.mkdirSync(out, { recursive: true });
  // copy side files (tokenizer, generation config, …), never stale weights
  for (const f of fs.readdirSync(model.dir)) {
    const src = path.join(model.dir, f);
    if (
      !fs.statSync(src).isFile() ||
      f.endsWith('.safetensors') ||
      f === INDEX_FILE ||
      f === SINGLE_FILE ||
      f === 'config.json' ||
      f === 'quantize_config.json'
    )
      continue;
    fs.copyFileSync(src, path.join(out, f));
  }
  if (dtype !== sourceDtype(model))
    config.torch_dtype = dtype === 'BF16' ? 'bfloat16' : dtype === 'F16' ? 'float16' : 'float32';
  const w = writeShardedCheckpoint(out, entries, { maxShardBytes: opts.maxShardBytes ?? 4 * 2 ** 30 });
  fs.writeFileSync(path.join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  // AutoGPTQ's from_quantized reads the block from its own file
  if (gptq)
    fs.writeFileSync(
      path.join(out, 'quantize_config.json'),
      `${JSON.stringify(config[QUANT_CONFIG_KEY], null, 2)}\n`,
    );
  // a packed linear counts its out·in weights, not its int32 words
  const params = entries.reduce((a, e) => a + size(e.shape), 0) + (packer ? packer.paramsDelta : 0);
  return {
    outDir: out,
    files: w.files,
    params,
    bytes: w.bytes,
    format,
    ...(fallbackReason ? { fallbackReason } : {}),
    ...(gptq ? { gptq } : {}),
  };
}
