// export.format "gptq": the plain HF checkpoint of export-model.ts with every quantized linear written
// in the AutoGPTQ layout (`<prefix>.qweight/.qzeros/.scales/.g_idx`, methods/quant/gptq-pack.ts) and
// config.json's `quantization_config` describing it:
//   quant_method "gptq", bits, group_size, sym, desc_act, checkpoint_format, static_groups false,
//   modules_in_block_to_quantize  the quantized linears (optimum/transformers replace a linear whose
//                                 name ends with an entry, vLLM one whose name contains it): names
//                                 inside the block when that selects exactly the quantized set in
//                                 every layer, full module names otherwise;
//   dynamic                       GPTQModel's "-:regex" exclusions of the block linears left in
//                                 float (attention, routers, …), which its loaders would otherwise
//                                 expect quantized.
// One quantization_config holds one bits and one group size, so a model mixing them is refused.
// sym is true only when every linear is symmetric (the zero points are stored either way), desc_act
// when any g_idx is not the plain ⌊j/g⌋ (kernels that ignore g_idx without it would misread it).
// checkpoint_format is "gptq" (v1, read by every loader) unless some zero point is 0, which v1
// cannot store: then "gptq_v2" (GPTQModel, transformers with gptqmodel) and the result says so.
import { EngineError } from '../errors';
import type { WriteEntry } from '../io/safetensors-writer';
import { gptqShapes } from '../methods/quant/accounting';
import {
  type GptqCheckpointFormat,
  type GptqTensors,
  packGptq,
  trivialGIdx,
  v1Holds,
} from '../methods/quant/gptq-pack';
import type { QuantizedWeight } from '../methods/quant/quantized-weight';
import { readQuantized } from '../model/gptq-checkpoint';
import type { LinearRef } from '../model/layer-manifest';
import type { LoadedModel } from '../model/model';
import type { Linear } from '../model/types';
import type { TensorReader } from './tensor-reader';

/** Where an exported linear's values come from. */
export type LinearSource =
  | { kind: 'linear'; L: Linear }
  /** a stored (workbench source) or persisted (work file) linear, its tensors read from `tensors` */
  | { kind: 'ref'; r: LinearRef; tensors: TensorReader }
  | { kind: 'ck'; name: string };

export interface GptqSummary {
  checkpointFormat: GptqCheckpointFormat;
  bits: number;
  groupSize: number;
  symmetric: boolean;
  descAct: boolean;
  /** linears written packed */
  quantizedLinears: number;
  /** why checkpoint_format is gptq_v2 (absent for v1) */
  note?: string;
}

interface Found {
  prefix: string;
  bits: number;
  groupSize: number;
  symmetric: boolean;
  v1: boolean;
  trivial: boolean;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The stored form of a workbench manifest's quantized linear (codes, zeros and g_idx are stored as exact floats). */
function quantOfRef(ck: TensorReader, r: Extract<LinearRef, { quant: unknown }>): QuantizedWeight {
  const q = r.quant;
  const codes = ck.readF32(q.codes);
  const gIdx = ck.readF32(q.gIdx);
  return {
    bits: q.bits,
    groupSize: q.groupSize,
    symmetric: q.symmetric,
    actOrder: q.actOrder,
    outFeatures: codes.length / gIdx.length,
    inFeatures: gIdx.length,
    codes: Uint8Array.from(codes),
    scales: ck.readF32(q.scales),
    zeros: Int32Array.from(ck.readF32(q.zeros)),
    gIdx: Int32Array.from(gIdx),
  };
}

export class GptqPacker {
  private readonly found: Found[] = [];
  private readonly cache = new Map<string, { t: GptqTensors; left: number }>();
  private format: GptqCheckpointFormat | null = null;
  /** logical weights of the packed linears minus the elements of their four tensors */
  paramsDelta = 0;

  constructor(private readonly model: LoadedModel) {}

  /** The integer form of a source, or null when it is not quantized. */
  private quantOf(src: LinearSource): (() => QuantizedWeight) | null {
    const ck = this.model.checkpoint;
    if (src.kind === 'linear')
      return src.L.kind === 'quantized' ? () => (src.L as { q: QuantizedWeight }).q : null;
    if (src.kind === 'ref')
      return 'quant' in src.r
        ? () => quantOfRef(src.tensors, src.r as Extract<LinearRef, { quant: unknown }>)
        : null;
    if (!src.name.endsWith('.weight')) return null;
    const prefix = src.name.slice(0, -'.weight'.length);
    const p = this.model.gptq?.linears.get(prefix);
    return p ? () => readQuantized(ck, prefix, p) : null;
  }

  /** The entries of one exported linear: packed when its source is quantized, else `dense`. */
  entries(outName: string, src: LinearSource, dense: WriteEntry): WriteEntry[] {
    const get = this.quantOf(src);
    if (!get) return [dense];
    if (!outName.endsWith('.weight')) throw new Error(`gptq export: '${outName}' is not a weight`);
    const prefix = outName.slice(0, -'.weight'.length);
    const q0 = get();
    this.found.push({
      prefix,
      bits: q0.bits,
      groupSize: q0.groupSize,
      symmetric: q0.symmetric,
      v1: v1Holds(q0),
      trivial: trivialGIdx(q0),
    });
    const packed = (): GptqTensors => {
      let c = this.cache.get(prefix);
      if (!c) {
        c = { t: packGptq(get(), this.checkpointFormat()), left: 4 };
        this.cache.set(prefix, c);
      }
      if (--c.left === 0) this.cache.delete(prefix);
      return c.t;
    };
    const { qweight, qzeros, scales, gIdx } = gptqShapes(
      q0.outFeatures,
      q0.inFeatures,
      q0.bits,
      q0.groupSize,
    );
    const n = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
    this.paramsDelta += n(dense.shape) - n(qweight) - n(qzeros) - n(scales) - n(gIdx);
    return [
      { name: `${prefix}.qweight`, dtype: 'I32', shape: [...qweight], data: () => packed().qweight },
      { name: `${prefix}.qzeros`, dtype: 'I32', shape: [...qzeros], data: () => packed().qzeros },
      { name: `${prefix}.scales`, dtype: 'F16', shape: [...scales], data: () => packed().scales },
      { name: `${prefix}.g_idx`, dtype: 'I32', shape: [...gIdx], data: () => packed().gIdx },
    ];
  }

  get count(): number {
    return this.found.length;
  }

  /** v1 unless a zero point of 0 makes it unable to store the weights. */
  checkpointFormat(): GptqCheckpointFormat {
    this.format ??= this.found.every((f) => f.v1) ? 'gptq' : 'gptq_v2';
    return this.format;
  }

  /**
   * config.json's quantization_config. `linears` are the full names (without `.weight`) of every
   * linear inside the decoder blocks, quantized or not; `layerPrefix(i)` is block i's prefix.
   */
  quantizationConfig(
    linears: string[],
    layers: number,
    layerPrefix: (i: number) => string,
  ): { config: Record<string, unknown>; summary: GptqSummary } {
    const f = this.found;
    if (f.length === 0)
      throw new EngineError('export.format "gptq": the model has no quantized linear to write', {
        field: 'export.format',
        hint: 'add an rtn or gptq step, or export as "dense" or "factored"',
      });
    for (const k of ['bits', 'groupSize'] as const) {
      const vals = [...new Set(f.map((x) => x[k]))];
      if (vals.length > 1) {
        const ex = vals.map((v) => `${v} (${f.find((x) => x[k] === v)!.prefix})`).join(', ');
        throw new EngineError(
          `export.format "gptq": the quantized linears use different ${k === 'bits' ? 'bit widths' : 'group sizes'} (${ex}); one quantization_config holds one`,
          {
            field: 'export.format',
            hint: 'quantize every linear alike, or export as "factored" (the workbench format keeps each as it is)',
          },
        );
      }
    }
    const quantized = new Set(f.map((x) => x.prefix));
    const format = this.checkpointFormat();
    const where = (name: string) => {
      for (let i = 0; i < layers; i++) {
        const p = `${layerPrefix(i)}.`;
        if (name.startsWith(p)) return name.slice(p.length);
      }
      return null;
    };
    const rel = [...new Set(f.map((x) => where(x.prefix) ?? x.prefix))];
    // optimum: name.endswith(entry); vLLM: entry in name — both must select exactly the quantized set
    const selects = (entries: string[]) =>
      linears.every((m) => {
        const a = entries.some((e) => m.endsWith(e));
        const b = entries.some((e) => m.includes(e));
        return a === quantized.has(m) && b === quantized.has(m);
      });
    const modules = selects(rel) ? rel : [...quantized];
    if (!selects(modules)) throw new Error('gptq export: module names do not select the quantized set');
    const floats = linears.filter((m) => !quantized.has(m));
    const relFloats = [...new Set(floats.map((m) => where(m) ?? m))];
    const anyLayer = esc(layerPrefix(987654321)).replace('987654321', '\\d+');
    const floatRe =
      modules === rel && relFloats.every((r) => !rel.includes(r))
        ? `^${anyLayer}\\.(?:${relFloats.map(esc).join('|')})$`
        : `^(?:${floats.map(esc).join('|')})$`;
    const summary: GptqSummary = {
      checkpointFormat: format,
      bits: f[0]!.bits,
      groupSize: f[0]!.groupSize,
      symmetric: f.every((x) => x.symmetric),
      descAct: f.some((x) => !x.trivial),
      quantizedLinears: f.length,
      ...(format === 'gptq_v2'
        ? {
            note: 'some zero point is 0, which checkpoint_format "gptq" (v1, zero − 1) cannot store: written as "gptq_v2" (GPTQModel and transformers with gptqmodel load it; AutoGPTQ and vLLM\'s v1 kernels do not)',
          }
        : {}),
    };
    const config: Record<string, unknown> = {
      quant_method: 'gptq',
      bits: summary.bits,
      group_size: summary.groupSize,
      desc_act: summary.descAct,
      sym: summary.symmetric,
      static_groups: false,
      true_sequential: true,
      checkpoint_format: format,
      modules_in_block_to_quantize: [modules],
      ...(floats.length > 0 ? { dynamic: { [`-:${floatRe}`]: {} } } : {}),
    };
    return { config, summary };
  }
}
