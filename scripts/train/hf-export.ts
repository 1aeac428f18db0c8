// Map trainer parameters to the exact HF checkpoint layout (tensor names, [out, in] orientation,
// per-expert split) and write config.json / generation_config.json / model.safetensors (bf16).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { transpose2d } from '../../src-main/engine/io/checkpoint';
import {
  type WriteDtype,
  type WriteEntry,
  writeSafetensors,
} from '../../src-main/engine/io/safetensors-writer';
import { headDim, isMoeLayer, type TinyArch } from './tiny-arch';

export type ParamSource = (name: string) => Float32Array;

/** Columns [c0, c0+n) of a row-major [rows, cols] matrix. */
function cols(src: Float32Array, rows: number, ncols: number, c0: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * ncols + c0, r * ncols + c0 + n), r * n);
  return out;
}

/** HF tensor entries (lazy producers) for the trained parameters. */
export function hfEntries(a: TinyArch, get: ParamSource, dtype: WriteDtype): WriteEntry[] {
  const h = a.hidden;
  const d = headDim(a);
  const out: WriteEntry[] = [];
  const add = (name: string, shape: number[], data: () => Float32Array): void => {
    out.push({ name, dtype, shape, data });
  };
  /** a linear stored [in, out] here → HF weight [out, in] */
  const linear = (name: string, src: () => Float32Array, inDim: number, outDim: number): void =>
    add(name, [outDim, inDim], () => transpose2d(src(), inDim, outDim));
  add('model.embed_tokens.weight', [a.vocab, h], () => get('embed'));
  const mix = a.family === 'mixtral';
  for (let l = 0; l < a.layers; l++) {
    const p = `l${l}.`;
    const m = `model.layers.${l}.`;
    add(`${m}input_layernorm.weight`, [h], () => get(`${p}ln1`));
    linear(`${m}self_attn.q_proj.weight`, () => get(`${p}wq`), h, a.heads * d);
    linear(`${m}self_attn.k_proj.weight`, () => get(`${p}wk`), h, a.kvHeads * d);
    linear(`${m}self_attn.v_proj.weight`, () => get(`${p}wv`), h, a.kvHeads * d);
    linear(`${m}self_attn.o_proj.weight`, () => get(`${p}wo`), a.heads * d, h);
    add(`${m}post_attention_layernorm.weight`, [h], () => get(`${p}ln2`));
    if (!isMoeLayer(a, l)) {
      const I = a.denseIntermediate;
      linear(`${m}mlp.gate_proj.weight`, () => get(`${p}dg`), h, I);
      linear(`${m}mlp.up_proj.weight`, () => get(`${p}du`), h, I);
      linear(`${m}mlp.down_proj.weight`, () => get(`${p}dd`), I, h);
      continue;
    }
    const E = a.experts;
    const I = a.moeIntermediate;
    const block = mix ? `${m}block_sparse_moe.` : `${m}mlp.`;
    linear(`${block}gate.weight`, () => get(`${p}router`), h, E);
    const [gn, un, dn] = mix ? ['w1', 'w3', 'w2'] : ['gate_proj', 'up_proj', 'down_proj'];
    for (let e = 0; e < E; e++) {
      const x = `${block}experts.${e}.`;
      add(`${x}${gn}.weight`, [I, h], () => transpose2d(cols(get(`${p}w1`), h, E * I, e * I, I), h, I));
      add(`${x}${un}.weight`, [I, h], () => transpose2d(cols(get(`${p}w3`), h, E * I, e * I, I), h, I));
      // down: rows e·I..(e+1)·I of [E·I, h] → HF [h, I]
      add(`${x}${dn}.weight`, [h, I], () =>
        transpose2d(get(`${p}w2`).slice(e * I * h, (e + 1) * I * h), I, h),
      );
    }
    if (a.sharedExperts > 0) {
      const SI = a.sharedExperts * I;
      linear(`${block}shared_experts.gate_proj.weight`, () => get(`${p}sg`), h, SI);
      linear(`${block}shared_experts.up_proj.weight`, () => get(`${p}su`), h, SI);
      linear(`${block}shared_experts.down_proj.weight`, () => get(`${p}sd`), SI, h);
    }
  }
  add('model.norm.weight', [h], () => get('norm'));
  linear('lm_head.weight', () => get('lm_head'), h, a.vocab);
  return out;
}

/** `auxCoef`: the balance-loss coefficient used in training (recorded as router_aux_loss_coef / aux_loss_alpha). */
export function hfConfig(a: TinyArch, auxCoef = 0.01): Record<string, unknown> {
  const common = {
    vocab_size: a.vocab,
    hidden_size: a.hidden,
    num_hidden_layers: a.layers,
    num_attention_heads: a.heads,
    num_key_value_heads: a.kvHeads,
    hidden_act: 'silu',
    max_position_embeddings: a.maxPositions,
    initializer_range: 0.02,
    rms_norm_eps: a.rmsEps,
    use_cache: true,
    rope_theta: a.ropeTheta,
    rope_scaling: null,
    attention_dropout: 0.0,
    bos_token_id: a.bosId,
    eos_token_id: a.eosId,
    pad_token_id: a.padId,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    transformers_version: '4.46.0',
  };
  if (a.family === 'mixtral') {
    return {
      architectures: ['MixtralForCausalLM'],
      model_type: 'mixtral',
      ...common,
      intermediate_size: a.moeIntermediate,
      num_local_experts: a.experts,
      num_experts_per_tok: a.topK,
      output_router_logits: false,
      router_aux_loss_coef: auxCoef,
      router_jitter_noise: 0.0,
      sliding_window: null,
    };
  }
  return {
    architectures: ['DeepseekForCausalLM'],
    auto_map: {
      AutoConfig: 'configuration_deepseek.DeepseekConfig',
      AutoModel: 'modeling_deepseek.DeepseekModel',
      AutoModelForCausalLM: 'modeling_deepseek.DeepseekForCausalLM',
    },
    model_type: 'deepseek',
    ...common,
    intermediate_size: a.denseIntermediate,
    moe_intermediate_size: a.moeIntermediate,
    n_routed_experts: a.experts,
    n_shared_experts: a.sharedExperts,
    num_experts_per_tok: a.topK,
    first_k_dense_replace: a.firstKDense,
    moe_layer_freq: 1,
    scoring_func: 'softmax',
    norm_topk_prob: a.normTopK,
    aux_loss_alpha: auxCoef,
    seq_aux: false,
    attention_bias: false,
    pretraining_tp: 1,
  };
}

export function generationConfig(a: TinyArch): Record<string, unknown> {
  return {
    _from_model_config: true,
    bos_token_id: a.bosId,
    eos_token_id: a.eosId,
    pad_token_id: a.padId,
    do_sample: false,
    max_new_tokens: 64,
    transformers_version: '4.46.0',
  };
}

export function writeHfConfigs(dir: string, a: TinyArch, auxCoef?: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify(hfConfig(a, auxCoef), null, 2)}\n`);
  writeFileSync(
    path.join(dir, 'generation_config.json'),
    `${JSON.stringify(generationConfig(a), null, 2)}\n`,
  );
}

export function writeHfModel(
  dir: string,
  a: TinyArch,
  get: ParamSource,
  opts: { metadata?: Record<string, string>; auxCoef?: number } = {},
): number {
  writeHfConfigs(dir, a, opts.auxCoef);
  return writeSafetensors(path.join(dir, 'model.safetensors'), hfEntries(a, get, 'BF16'), opts.metadata)
    .bytes;
}
