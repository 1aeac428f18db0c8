// Reading a GPTQ checkpoint (config.json `quantization_config.quant_method == "gptq"`, AutoGPTQ / HF
// layout, methods/quant/gptq-pack.ts): every linear stored as `<prefix>.qweight/.qzeros/.scales/
// .g_idx` is registered on the checkpoint as a derived `<prefix>.weight`, its exact dequantization
// s·(q − z) in f32, so the validator, the executor and the dense exporter read it like any weight;
// `readQuantized` gives the stored integer form (the MoE view's `kind: 'quantized'` linears).
// Per-module `dynamic` overrides (GPTQModel: "+:regex" → {bits, group_size, …}) are honoured; a
// "-:regex" module is simply one stored as a plain weight. No tfjs import.
import { EngineError } from '../errors';
import type { Checkpoint } from '../io/checkpoint';
import { gptqShapes, perWord } from '../methods/quant/accounting';
import {
  GPTQ_CHECKPOINT_FORMATS,
  type GptqCheckpointFormat,
  type GptqLinearParams,
  unpackGptq,
} from '../methods/quant/gptq-pack';
import { dequantize, type QuantizedWeight } from '../methods/quant/quantized-weight';

export const QUANT_CONFIG_KEY = 'quantization_config';
const PARTS = ['qweight', 'qzeros', 'scales', 'g_idx'] as const;

export interface GptqConfig {
  bits: 4 | 8;
  groupSize: number;
  symmetric: boolean;
  descAct: boolean;
  format: GptqCheckpointFormat;
  /** GPTQModel per-module overrides, in order: [regex, overrides] */
  dynamic: [RegExp, Record<string, unknown>][];
}

export interface GptqLayout {
  config: GptqConfig;
  /** module prefix (`<prefix>.qweight`) → how it is stored */
  linears: Map<string, GptqLinearParams>;
}

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function bitsOf(v: unknown, file: string, field: string): 4 | 8 {
  if (v === 4 || v === 8) return v;
  throw new EngineError(`bits ${JSON.stringify(v)} is not supported; allowed: 4, 8`, { file, field });
}

function groupOf(v: unknown, file: string, field: string): number {
  if (v === -1 || (Number.isInteger(v) && (v as number) > 0)) return v as number;
  throw new EngineError(`group_size ${JSON.stringify(v)} must be -1 (per channel) or a positive integer`, {
    file,
    field,
  });
}

/** config.json's GPTQ block, or null when the checkpoint is not quantized. */
export function parseGptqConfig(config: Record<string, unknown>, file: string): GptqConfig | null {
  const q = config[QUANT_CONFIG_KEY];
  if (q === undefined || q === null) return null;
  const field = (k: string) => `${QUANT_CONFIG_KEY}.${k}`;
  if (!isObj(q)) throw new EngineError('expected an object', { file, field: QUANT_CONFIG_KEY });
  if (q.quant_method !== 'gptq')
    throw new EngineError(
      `quant_method ${JSON.stringify(q.quant_method)} is not supported; allowed: "gptq"`,
      {
        file,
        field: field('quant_method'),
      },
    );
  const fmt = q.checkpoint_format ?? 'gptq';
  if (!GPTQ_CHECKPOINT_FORMATS.includes(fmt as GptqCheckpointFormat))
    throw new EngineError(
      `checkpoint_format ${JSON.stringify(fmt)} is not supported; allowed: ${GPTQ_CHECKPOINT_FORMATS.map((f) => `"${f}"`).join(', ')}`,
      {
        file,
        field: field('checkpoint_format'),
      },
    );
  const bool = (k: string, d: boolean) => {
    const v = q[k] ?? d;
    if (typeof v !== 'boolean')
      throw new EngineError(`expected true or false, got ${JSON.stringify(v)}`, { file, field: field(k) });
    return v;
  };
  const dynamic: [RegExp, Record<string, unknown>][] = [];
  if (q.dynamic !== undefined && q.dynamic !== null) {
    if (!isObj(q.dynamic))
      throw new EngineError('expected an object {regex: overrides}', { file, field: field('dynamic') });
    for (const [k, v] of Object.entries(q.dynamic)) {
      if (k.startsWith('-:')) continue; // excluded modules are stored as plain weights
      try {
        // Python re.match: anchored at the start only
        dynamic.push([new RegExp(`^(?:${k.replace(/^\+:/, '')})`), isObj(v) ? v : {}]);
      } catch (e) {
        throw new EngineError(`dynamic rule ${JSON.stringify(k)} is not a valid regular expression`, {
          file,
          field: field('dynamic'),
          cause: e,
        });
      }
    }
  }
  return {
    bits: bitsOf(q.bits, file, field('bits')),
    groupSize: groupOf(q.group_size ?? 128, file, field('group_size')),
    symmetric: bool('sym', true),
    descAct: bool('desc_act', false),
    format: fmt as GptqCheckpointFormat,
    dynamic,
  };
}

/** Bits and group size of one module after GPTQModel's `dynamic` overrides (first match wins, as there). */
function moduleParams(c: GptqConfig, prefix: string, file: string) {
  const hit = c.dynamic.find(([re]) => re.test(prefix))?.[1] ?? {};
  const f = `${QUANT_CONFIG_KEY}.dynamic`;
  return {
    bits: hit.bits === undefined ? c.bits : bitsOf(hit.bits, file, f),
    groupSize: hit.group_size === undefined ? c.groupSize : groupOf(hit.group_size, file, f),
    symmetric: typeof hit.sym === 'boolean' ? hit.sym : c.symmetric,
    actOrder: typeof hit.desc_act === 'boolean' ? hit.desc_act : c.descAct,
  };
}

/**
 * Find every GPTQ linear of the checkpoint, check its four tensors' dtypes and shapes against the
 * config, and register its dequantized `.weight`. Null when config.json has no GPTQ block.
 */
export function attachGptq(ck: Checkpoint, config: Record<string, unknown>, file: string): GptqLayout | null {
  const c = parseGptqConfig(config, file);
  if (!c) return null;
  const linears = new Map<string, GptqLinearParams>();
  for (const name of ck.names()) {
    if (!name.endsWith('.qweight')) continue;
    const prefix = name.slice(0, -'.qweight'.length);
    const p = moduleParams(c, prefix, file);
    const info = (part: (typeof PARTS)[number]) => {
      const n = `${prefix}.${part}`;
      if (!ck.has(n))
        throw new EngineError(`GPTQ linear '${prefix}' has qweight but no ${part}`, {
          file: ck.info(name).file,
          field: n,
          hint: 'a GPTQ linear stores qweight, qzeros, scales and g_idx',
        });
      return ck.info(n);
    };
    const qw = info('qweight');
    const gi = info('g_idx');
    for (const [part, want] of [
      ['qweight', 'I32'],
      ['qzeros', 'I32'],
      ['g_idx', 'I32'],
    ] as const)
      if (info(part).dtype !== want)
        throw new EngineError(`${part} is ${info(part).dtype}; the GPTQ layout stores it as ${want}`, {
          file: info(part).file,
          field: `${prefix}.${part}`,
        });
    if (qw.shape.length !== 2 || gi.shape.length !== 1)
      throw new EngineError(`qweight must be 2-D and g_idx 1-D, got [${qw.shape}] and [${gi.shape}]`, {
        file: qw.file,
        field: name,
      });
    const out = qw.shape[1]!;
    const inp = gi.shape[0]!;
    const want = gptqShapes(out, inp, p.bits, p.groupSize);
    const check = (part: (typeof PARTS)[number], shape: readonly number[]) => {
      const got = info(part).shape;
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i]))
        throw new EngineError(
          `${part} is [${got}], but a [${out}, ${inp}] linear at ${p.bits} bits, group size ${p.groupSize} stores [${shape}] (${perWord(p.bits)} codes per int32)`,
          {
            file: info(part).file,
            field: `${prefix}.${part}`,
            hint: `check ${QUANT_CONFIG_KEY}.bits and group_size`,
          },
        );
    };
    check('qweight', want.qweight);
    check('qzeros', want.qzeros);
    check('scales', want.scales);
    const params: GptqLinearParams = { ...p, outFeatures: out, inFeatures: inp, format: c.format };
    linears.set(prefix, params);
    ck.derive(`${prefix}.weight`, {
      shape: [out, inp],
      from: name,
      read: () => dequantize(readQuantized(ck, prefix, params)),
    });
  }
  if (linears.size === 0)
    throw new EngineError('quant_method is "gptq" but no tensor ends in .qweight', {
      file,
      field: `${QUANT_CONFIG_KEY}.quant_method`,
      hint: 'the weights do not match config.json',
    });
  return { config: c, linears };
}

function int32(ck: Checkpoint, name: string): Int32Array {
  const raw = ck.readRaw(name);
  return new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

/** The stored integer form of one GPTQ linear (zero points as the format defines them). */
export function readQuantized(ck: Checkpoint, prefix: string, p: GptqLinearParams): QuantizedWeight {
  const q = unpackGptq(
    {
      qweight: int32(ck, `${prefix}.qweight`),
      qzeros: int32(ck, `${prefix}.qzeros`),
      scales: ck.readF32(`${prefix}.scales`),
      gIdx: int32(ck, `${prefix}.g_idx`),
    },
    p,
  );
  const maxq = 2 ** p.bits - 1;
  const G = q.zeros.length / p.outFeatures;
  for (const g of q.gIdx)
    if (!(g >= 0 && g < G))
      throw new EngineError(`g_idx entry ${g} is outside 0..${G - 1}`, {
        file: ck.info(`${prefix}.g_idx`).file,
        field: `${prefix}.g_idx`,
      });
  for (const z of q.zeros)
    if (z > maxq)
      throw new EngineError(
        `a stored zero point reads as ${z} (> ${maxq}): a "gptq" (v1) checkpoint whose zero 0 wrapped on export`,
        {
          file: ck.info(`${prefix}.qzeros`).file,
          field: `${prefix}.qzeros`,
          hint: 're-quantize, or export as checkpoint_format "gptq_v2"',
        },
      );
  return q;
}
