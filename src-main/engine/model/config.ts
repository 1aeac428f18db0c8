// config.json parsing shared by the adapters: zod validation with errors that name config.json and
// the key, plus the checks common to every architecture.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EngineError } from '../errors';
import { parseJson } from '../io/json-depth';
import { plainIssueParts } from '../plain-issue';

export const posInt = z.number().int().positive();
export const nonNegInt = z.number().int().nonnegative();
export const posNum = z.number().positive();

// Sane maxima, checked before anything is sized from them (`num_hidden_layers: 1e9` once sized an
// array of a billion layers): far above every published MoE, far below what would exhaust memory.
// The tensors present are checked against the config afterwards (tensor-layout.ts).
export const MAX_LAYERS = 1024;
export const MAX_EXPERTS = 4096;
const MAX_WIDTH = 1 << 20;
const MAX_VOCAB = 1 << 22;
const MAX_HEADS = 4096;
/** an expert count (routed or shared) */
export const expertCount = posInt.max(MAX_EXPERTS);
export const expertCountOrZero = nonNegInt.max(MAX_EXPERTS);

/** Fields every supported architecture shares, with caller-supplied HF defaults. */
export function commonFields(d: {
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number | null;
  eps: number;
  theta: number;
}) {
  return {
    model_type: z.string(),
    vocab_size: posInt.max(MAX_VOCAB).default(d.vocab),
    hidden_size: posInt.max(MAX_WIDTH).default(d.hidden),
    intermediate_size: posInt.max(MAX_WIDTH).default(d.intermediate),
    num_hidden_layers: posInt.max(MAX_LAYERS).default(d.layers),
    num_attention_heads: posInt.max(MAX_HEADS).default(d.heads),
    num_key_value_heads: posInt.max(MAX_HEADS).nullable().default(d.kvHeads),
    hidden_act: z.string().default('silu'),
    rms_norm_eps: posNum.default(d.eps),
    rope_theta: posNum.default(d.theta),
    rope_scaling: z.record(z.string(), z.unknown()).nullable().default(null),
    /** transformers v5 layout: {rope_type, rope_theta, ...} replaces rope_theta / rope_scaling. */
    rope_parameters: z.record(z.string(), z.unknown()).nullable().default(null),
    partial_rotary_factor: posNum.nullable().default(null),
    tie_word_embeddings: z.boolean().default(false),
  };
}

export function readConfigJson(modelDir: string): { raw: Record<string, unknown>; file: string } {
  const file = path.join(modelDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError('cannot read config.json', {
      file,
      hint: 'MODEL_DIR must be a Hugging Face model folder holding config.json and *.safetensors',
      cause: e,
    });
  }
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch (e) {
    throw new EngineError(`invalid JSON (${(e as Error).message})`, { file, cause: e });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EngineError('expected a JSON object', { file });
  }
  return { raw: raw as Record<string, unknown>, file };
}

/** Validate with zod; the first issue becomes an EngineError naming the key and the expectation. */
export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown, file: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const { field, text } = plainIssueParts(r.error.issues[0]!, raw, '(root)');
  throw new EngineError(text, { file, field });
}

export function requireSilu(act: string, file: string): void {
  if (act !== 'silu') {
    throw new EngineError(`hidden_act '${act}' is not implemented; only 'silu' is supported`, {
      file,
      field: 'hidden_act',
    });
  }
}

interface RopeFields {
  rope_theta: number;
  rope_scaling: Record<string, unknown> | null;
  rope_parameters: Record<string, unknown> | null;
  partial_rotary_factor: number | null;
}

/**
 * θ and the scaling block, from either the v4 keys (rope_theta, rope_scaling) or the v5
 * rope_parameters. Partial rotary is refused: none of the supported families uses it.
 */
export function ropeSettings(
  c: RopeFields,
  file: string,
): { theta: number; scaling: Record<string, unknown> | null } {
  const p = c.rope_parameters;
  const pt = p?.rope_theta;
  if (pt !== undefined && (typeof pt !== 'number' || !(pt > 0))) {
    throw new EngineError('expected a positive number', { file, field: 'rope_parameters.rope_theta' });
  }
  const pf =
    c.partial_rotary_factor ??
    (typeof p?.partial_rotary_factor === 'number' ? p.partial_rotary_factor : null);
  if (pf !== null && pf !== 1) {
    throw new EngineError(`partial_rotary_factor ${pf} is not implemented (expected 1)`, {
      file,
      field: 'partial_rotary_factor',
    });
  }
  const pType = p ? String(p.rope_type ?? p.type ?? 'default') : 'default';
  return {
    theta: (pt as number | undefined) ?? c.rope_theta,
    scaling: c.rope_scaling ?? (pType !== 'default' ? p : null),
  };
}

/** Only unscaled RoPE is implemented in the generic path; anything else must fail loudly. */
export function requireNoRopeScaling(c: RopeFields, file: string): number {
  const { theta, scaling } = ropeSettings(c, file);
  if (scaling === null) return theta;
  const kind = String(scaling.rope_type ?? scaling.type ?? 'unknown');
  if (kind === 'default') return theta;
  throw new EngineError(`rope_scaling type '${kind}' is not implemented for this architecture`, {
    file,
    field: 'rope_scaling',
    hint: 'remove rope_scaling (context extension) or use a checkpoint without it; results would be silently wrong',
  });
}

export function headDivisible(hidden: number, heads: number, kvHeads: number, file: string): number {
  if (hidden % heads !== 0) {
    throw new EngineError(`hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`, {
      file,
      field: 'num_attention_heads',
    });
  }
  if (heads % kvHeads !== 0) {
    throw new EngineError(
      `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`,
      {
        file,
        field: 'num_key_value_heads',
      },
    );
  }
  return hidden / heads;
}

export function requireTopK(topK: number, experts: number, file: string, field: string): void {
  if (topK > experts) {
    throw new EngineError(`top-k ${topK} exceeds the number of experts ${experts}`, { file, field });
  }
}
