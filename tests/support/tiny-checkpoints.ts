// Tiny, seeded Hugging Face checkpoints of the six supported MoE architectures, in the exact HF layout
// (config.json, model.safetensors or shards + index, generation_config.json, byte-level tokenizer).
// Sizes are deliberately small; every architecture switches on its interesting flags so that an engine
// ignoring one of them diverges from tests/reference/hf_moe_reference.py.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type WriteDtype as StDtype,
  type WriteEntry as StEntry,
  writeSafetensors,
  writeShardedCheckpoint,
} from '../../src-main/engine/io/safetensors-writer';

export type TinyArch = 'mixtral' | 'qwen2_moe' | 'qwen3_moe' | 'olmoe' | 'deepseek' | 'phimoe';
export const TINY_ARCHS: TinyArch[] = ['mixtral', 'qwen2_moe', 'qwen3_moe', 'olmoe', 'deepseek', 'phimoe'];

export interface TinyCheckpointOptions {
  arch: TinyArch;
  dtype?: 'F32' | 'BF16';
  shards?: number;
  layers?: number;
  hidden?: number;
  seed?: number;
  vocab?: number;
  overrides?: Record<string, unknown>;
}

export const BYTE_TOKENS = 256;
export const BOS_ID = 256;
export const EOS_ID = 257;
const MIN_VOCAB = 258;

// ---- seeded normal generator: mulberry32 + Box-Muller, one independent stream per tensor name ----

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function seededNormal(n: number, seed: number, name: string, mean: number, std: number): Float32Array {
  const rnd = mulberry32(fnv1a(name, seed));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = Math.max(rnd(), 1e-12);
    const u2 = rnd();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

// ---- configs -------------------------------------------------------------------------------------

function baseConfig(o: Required<Pick<TinyCheckpointOptions, 'layers' | 'hidden' | 'vocab'>>, dtype: StDtype) {
  return {
    vocab_size: o.vocab,
    hidden_size: o.hidden,
    num_hidden_layers: o.layers,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    hidden_act: 'silu',
    max_position_embeddings: 4096,
    initializer_range: 0.02,
    use_cache: true,
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    attention_dropout: 0.0,
    output_router_logits: false,
    torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float32',
    transformers_version: '4.46.0',
  };
}

function archConfig(arch: TinyArch, layers: number): Record<string, unknown> {
  switch (arch) {
    case 'mixtral':
      return {
        architectures: ['MixtralForCausalLM'],
        model_type: 'mixtral',
        intermediate_size: 64,
        num_local_experts: 4,
        num_experts_per_tok: 2,
        rms_norm_eps: 1e-5,
        rope_theta: 1e6,
        // a short window so that sequences > 16 tokens exercise the sliding-window mask
        sliding_window: 16,
        router_jitter_noise: 0.0,
        router_aux_loss_coef: 0.02,
        tie_word_embeddings: false,
      };
    case 'qwen2_moe':
      return {
        architectures: ['Qwen2MoeForCausalLM'],
        model_type: 'qwen2_moe',
        intermediate_size: 96, // dense layers listed in mlp_only_layers
        moe_intermediate_size: 32,
        shared_expert_intermediate_size: 48,
        num_experts: 8,
        num_experts_per_tok: 2,
        norm_topk_prob: false,
        decoder_sparse_step: 1,
        mlp_only_layers: layers > 1 ? [1] : [],
        qkv_bias: true,
        rms_norm_eps: 1e-6,
        rope_theta: 1e6,
        use_sliding_window: false,
        sliding_window: 4096,
        max_window_layers: 28,
        router_aux_loss_coef: 0.001,
        tie_word_embeddings: false,
      };
    case 'qwen3_moe':
      return {
        architectures: ['Qwen3MoeForCausalLM'],
        model_type: 'qwen3_moe',
        head_dim: 24, // != hidden / heads = 16
        intermediate_size: 96,
        moe_intermediate_size: 40,
        num_experts: 8,
        num_experts_per_tok: 2,
        norm_topk_prob: true,
        decoder_sparse_step: 1,
        mlp_only_layers: [],
        attention_bias: false,
        rms_norm_eps: 1e-6,
        rope_theta: 1e6,
        use_sliding_window: false,
        sliding_window: null,
        max_window_layers: 48,
        router_aux_loss_coef: 0.001,
        tie_word_embeddings: true,
      };
    case 'olmoe':
      return {
        architectures: ['OlmoeForCausalLM'],
        model_type: 'olmoe',
        intermediate_size: 32,
        num_experts: 8,
        num_experts_per_tok: 2,
        norm_topk_prob: false,
        clip_qkv: 1.5, // small enough that q/k values after the qk-norm really get clamped
        attention_bias: false,
        rms_norm_eps: 1e-5,
        rope_theta: 10000.0,
        router_aux_loss_coef: 0.01,
        pad_token_id: null,
        tie_word_embeddings: false,
      };
    case 'deepseek':
      return {
        architectures: ['DeepseekForCausalLM'],
        model_type: 'deepseek',
        auto_map: {
          AutoConfig: 'configuration_deepseek.DeepseekConfig',
          AutoModel: 'modeling_deepseek.DeepseekModel',
          AutoModelForCausalLM: 'modeling_deepseek.DeepseekForCausalLM',
        },
        intermediate_size: 96, // dense layers (< first_k_dense_replace)
        moe_intermediate_size: 24,
        n_routed_experts: 8,
        n_shared_experts: 2,
        num_experts_per_tok: 3,
        first_k_dense_replace: 1,
        moe_layer_freq: 1,
        norm_topk_prob: false,
        scoring_func: 'softmax',
        aux_loss_alpha: 0.001,
        seq_aux: true,
        attention_bias: false,
        pretraining_tp: 1,
        rms_norm_eps: 1e-6,
        rope_theta: 10000.0,
        rope_scaling: null,
        tie_word_embeddings: false,
      };
    case 'phimoe':
      return {
        architectures: ['PhimoeForCausalLM'],
        model_type: 'phimoe',
        intermediate_size: 48,
        num_local_experts: 4,
        num_experts_per_tok: 2,
        // sparsemixer uses this as its (relative) masking threshold even in eval mode; 0.1 makes the
        // masked softmax keep several experts for some tokens, unlike the real 0.01
        router_jitter_noise: 0.1,
        input_jitter_noise: 0.0,
        attention_bias: true,
        lm_head_bias: true,
        rms_norm_eps: 1e-5,
        rope_theta: 1e6,
        rope_scaling: null,
        sliding_window: 2048,
        router_aux_loss_coef: 0.001,
        tie_word_embeddings: false,
      };
  }
}

// ---- tensors -------------------------------------------------------------------------------------

interface Spec {
  name: string;
  shape: number[];
  mean: number;
  std: number;
}

function num(c: Record<string, unknown>, k: string): number {
  const v = c[k];
  if (typeof v !== 'number') throw new Error(`tiny config: ${k} must be a number`);
  return v;
}

function tensorSpecs(arch: TinyArch, c: Record<string, unknown>): Spec[] {
  const h = num(c, 'hidden_size');
  const V = num(c, 'vocab_size');
  const H = num(c, 'num_attention_heads');
  const KV = num(c, 'num_key_value_heads');
  const D =
    arch === 'qwen3_moe' || arch === 'mixtral' || arch === 'qwen2_moe'
      ? ((c.head_dim as number) ?? h / H)
      : h / H;
  const specs: Spec[] = [];
  const lin = (name: string, out: number, inp: number, std = 0.08) =>
    specs.push({ name, shape: [out, inp], mean: 0, std });
  const vec = (name: string, n: number, mean: number, std: number) =>
    specs.push({ name, shape: [n], mean, std });
  const normW = (p: string, n: number) => {
    vec(`${p}.weight`, n, 1, 0.1);
    if (arch === 'phimoe') vec(`${p}.bias`, n, 0, 0.05);
  };
  const mlp = (p: string, inter: number, names = ['gate_proj', 'up_proj', 'down_proj']) => {
    lin(`${p}.${names[0]}.weight`, inter, h);
    lin(`${p}.${names[1]}.weight`, inter, h);
    lin(`${p}.${names[2]}.weight`, h, inter);
  };
  specs.push({ name: 'model.embed_tokens.weight', shape: [V, h], mean: 0, std: 0.5 });
  const layers = num(c, 'num_hidden_layers');
  for (let l = 0; l < layers; l++) {
    const L = `model.layers.${l}`;
    normW(`${L}.input_layernorm`, h);
    normW(`${L}.post_attention_layernorm`, h);
    const A = `${L}.self_attn`;
    lin(`${A}.q_proj.weight`, H * D, h);
    lin(`${A}.k_proj.weight`, KV * D, h);
    lin(`${A}.v_proj.weight`, KV * D, h);
    lin(`${A}.o_proj.weight`, h, H * D);
    const qkvBias =
      arch === 'qwen2_moe' ? c.qkv_bias !== false : arch === 'mixtral' ? false : c.attention_bias === true;
    const oBias = arch !== 'qwen2_moe' && arch !== 'mixtral' && c.attention_bias === true;
    if (qkvBias) {
      vec(`${A}.q_proj.bias`, H * D, 0, 0.05);
      vec(`${A}.k_proj.bias`, KV * D, 0, 0.05);
      vec(`${A}.v_proj.bias`, KV * D, 0, 0.05);
    }
    if (oBias) vec(`${A}.o_proj.bias`, h, 0, 0.05);
    if (arch === 'olmoe') {
      vec(`${A}.q_norm.weight`, H * D, 1, 0.1);
      vec(`${A}.k_norm.weight`, KV * D, 1, 0.1);
    }
    if (arch === 'qwen3_moe') {
      vec(`${A}.q_norm.weight`, D, 1, 0.1);
      vec(`${A}.k_norm.weight`, D, 1, 0.1);
    }
    if (arch === 'mixtral' || arch === 'phimoe') {
      const M = `${L}.block_sparse_moe`;
      const E = num(c, 'num_local_experts');
      lin(`${M}.gate.weight`, E, h, 0.3);
      for (let e = 0; e < E; e++) mlp(`${M}.experts.${e}`, num(c, 'intermediate_size'), ['w1', 'w3', 'w2']);
      continue;
    }
    const M = `${L}.mlp`;
    let moe = true;
    if (arch === 'qwen2_moe' || arch === 'qwen3_moe') {
      const only = (c.mlp_only_layers as number[] | null) ?? [];
      const step = num(c, 'decoder_sparse_step');
      moe = !only.includes(l) && num(c, 'num_experts') > 0 && (l + 1) % step === 0;
    } else if (arch === 'deepseek') {
      moe =
        c.n_routed_experts != null &&
        l >= num(c, 'first_k_dense_replace') &&
        l % num(c, 'moe_layer_freq') === 0;
    }
    if (!moe) {
      mlp(M, num(c, 'intermediate_size'));
      continue;
    }
    const E = arch === 'deepseek' ? num(c, 'n_routed_experts') : num(c, 'num_experts');
    const inter = arch === 'olmoe' ? num(c, 'intermediate_size') : num(c, 'moe_intermediate_size');
    lin(`${M}.gate.weight`, E, h, 0.3);
    for (let e = 0; e < E; e++) mlp(`${M}.experts.${e}`, inter);
    if (arch === 'qwen2_moe') {
      mlp(`${M}.shared_expert`, num(c, 'shared_expert_intermediate_size'));
      lin(`${M}.shared_expert_gate.weight`, 1, h, 0.3);
    }
    if (arch === 'deepseek' && c.n_shared_experts != null) {
      mlp(`${M}.shared_experts`, num(c, 'moe_intermediate_size') * num(c, 'n_shared_experts'));
    }
  }
  normW('model.norm', h);
  if (c.tie_word_embeddings !== true) lin('lm_head.weight', V, h, 0.1);
  if (arch === 'phimoe' && c.lm_head_bias === true) vec('lm_head.bias', V, 0, 0.05);
  return specs;
}

// ---- tokenizer -----------------------------------------------------------------------------------

/** GPT-2 bytes_to_unicode: the printable stand-in character of each byte used by ByteLevel. */
export function byteToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => {
    out[b] = String.fromCodePoint(cs[i]);
  });
  return out;
}

function tokenizerFiles(arch: TinyArch) {
  const b2u = byteToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[b2u[b]] = b;
  vocab['<s>'] = BOS_ID;
  vocab['</s>'] = EOS_ID;
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  // Llama-style families prepend BOS by default; Qwen and OLMoE (GPT-NeoX style) do not
  const addsBos = arch === 'mixtral' || arch === 'phimoe' || arch === 'deepseek';
  const postProcessor = addsBos
    ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<s>', type_id: 1 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { '<s>': { id: '<s>', ids: [BOS_ID], tokens: ['<s>'] } },
      }
    : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(BOS_ID, '<s>'), special(EOS_ID, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  const tokenizerConfig = {
    add_bos_token: addsBos,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: null,
    unk_token: null,
    model_max_length: 4096,
    clean_up_tokenization_spaces: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
    added_tokens_decoder: {
      [BOS_ID]: {
        content: '<s>',
        lstrip: false,
        normalized: false,
        rstrip: false,
        single_word: false,
        special: true,
      },
      [EOS_ID]: {
        content: '</s>',
        lstrip: false,
        normalized: false,
        rstrip: false,
        single_word: false,
        special: true,
      },
    },
  };
  return { tokenizer, tokenizerConfig };
}

// ---- entry point ---------------------------------------------------------------------------------

export function tinyConfig(opts: TinyCheckpointOptions): Record<string, unknown> {
  const layers = opts.layers ?? 2;
  const hidden = opts.hidden ?? 64;
  const vocab = opts.vocab ?? 272;
  if (vocab < MIN_VOCAB)
    throw new Error(`tiny checkpoint: vocab must be >= ${MIN_VOCAB} (256 bytes + <s>, </s>)`);
  if (hidden % 4 !== 0)
    throw new Error('tiny checkpoint: hidden must be a multiple of 4 (4 attention heads)');
  return {
    ...baseConfig({ layers, hidden, vocab }, opts.dtype ?? 'F32'),
    ...archConfig(opts.arch, layers),
    ...(opts.overrides ?? {}),
  };
}

export function writeTinyCheckpoint(
  dir: string,
  opts: TinyCheckpointOptions,
): { config: Record<string, unknown>; tensorNames: string[] } {
  const dtype: StDtype = opts.dtype ?? 'F32';
  const seed = opts.seed ?? 1234;
  const config = tinyConfig(opts);
  mkdirSync(dir, { recursive: true });
  const specs = tensorSpecs(opts.arch, config);
  const entries: StEntry[] = specs.map((s) => ({
    name: s.name,
    dtype,
    shape: s.shape,
    data: () =>
      seededNormal(
        s.shape.reduce((a, b) => a * b, 1),
        seed,
        s.name,
        s.mean,
        s.std,
      ),
  }));
  const metadata = { format: 'pt' };
  const shards = opts.shards ?? 1;
  if (shards > 1) {
    const bytes = specs.reduce(
      (a, s) => a + s.shape.reduce((x, y) => x * y, 1) * (dtype === 'F32' ? 4 : 2),
      0,
    );
    writeShardedCheckpoint(dir, entries, { maxShardBytes: Math.ceil(bytes / shards), metadata });
  } else {
    writeSafetensors(join(dir, 'model.safetensors'), entries, metadata);
  }
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(
    join(dir, 'generation_config.json'),
    `${JSON.stringify({ _from_model_config: true, bos_token_id: BOS_ID, eos_token_id: EOS_ID, transformers_version: '4.46.0' }, null, 2)}\n`,
  );
  const { tokenizer, tokenizerConfig } = tokenizerFiles(opts.arch);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
  return { config, tensorNames: specs.map((s) => s.name) };
}
