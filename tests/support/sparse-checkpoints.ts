// Sparse real-size HF checkpoints for memory tests: config.json with a real model's fields and bf16
// shards whose safetensors headers are real and whose data is a hole (truncate: no bytes written).
import fs from 'node:fs';
import path from 'node:path';
import { loadModelSpec } from '../../src-main/engine/model/registry';
import { globalTensors, layerTensors } from '../../src-main/engine/model/tensor-layout';

const SHARD_BYTES = 5 * 10 ** 9;

export const MIXTRAL_8X7B = {
  architectures: ['MixtralForCausalLM'],
  model_type: 'mixtral',
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  vocab_size: 32000,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-5,
  rope_theta: 1e6,
  sliding_window: null,
  router_aux_loss_coef: 0.02,
  router_jitter_noise: 0.0,
  hidden_act: 'silu',
  initializer_range: 0.02,
  attention_dropout: 0.0,
  output_router_logits: false,
  tie_word_embeddings: false,
  use_cache: true,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: 'bfloat16',
  transformers_version: '4.36.0.dev0',
};

export const OLMOE_1B_7B = {
  architectures: ['OlmoeForCausalLM'],
  model_type: 'olmoe',
  hidden_size: 2048,
  intermediate_size: 1024,
  num_hidden_layers: 16,
  num_attention_heads: 16,
  num_key_value_heads: 16,
  num_experts: 64,
  num_experts_per_tok: 8,
  vocab_size: 50304,
  max_position_embeddings: 4096,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  norm_topk_prob: false,
  clip_qkv: null,
  attention_bias: false,
  router_aux_loss_coef: 0.01,
  hidden_act: 'silu',
  initializer_range: 0.02,
  attention_dropout: 0.0,
  output_router_logits: false,
  tie_word_embeddings: false,
  use_cache: true,
  pad_token_id: 1,
  bos_token_id: null,
  eos_token_id: 50279,
  torch_dtype: 'bfloat16',
  transformers_version: '4.43.0.dev0',
};

/** config.json + bf16 shards whose headers are real and whose data is a hole (truncate) + the index. */
export function writeSparseCheckpoint(dir: string, config: Record<string, unknown>): number {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const { spec } = loadModelSpec(dir);
  const tensors = [...globalTensors(spec)];
  for (let l = 0; l < spec.layers; l++) tensors.push(...layerTensors(spec, l));
  const shards: { name: string; shape: number[] }[][] = [[]];
  let bytes = 0;
  for (const t of tensors) {
    const b = 2 * t.shape.reduce((a, x) => a * x, 1);
    if (bytes + b > SHARD_BYTES && shards[shards.length - 1]!.length > 0) {
      shards.push([]);
      bytes = 0;
    }
    shards[shards.length - 1]!.push({ name: t.name, shape: [...t.shape] });
    bytes += b;
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  shards.forEach((list, i) => {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    for (const t of list) {
      const b = 2 * t.shape.reduce((a, x) => a * x, 1);
      header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [off, off + b] };
      off += b;
      weightMap[t.name] = file;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const f = path.join(dir, file);
    fs.writeFileSync(f, Buffer.concat([prefix, Buffer.from(json, 'utf8')]));
    fs.truncateSync(f, 8 + json.length + off);
    total += off;
  });
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }),
  );
  return total;
}
