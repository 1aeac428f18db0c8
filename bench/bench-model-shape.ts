// The generated model the speed and memory benchmarks share (Mixtral-style: 8 heads / 2 KV heads,
// 8 experts × 1024 top-2, full attention), as config overrides for writeTinyCheckpoint.
export const BENCH_MODEL_SHAPE = {
  num_attention_heads: 8,
  num_key_value_heads: 2,
  intermediate_size: 1024,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  sliding_window: null,
};
