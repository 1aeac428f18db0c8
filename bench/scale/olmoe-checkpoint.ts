// A 2-layer checkpoint with the exact layer shapes of OLMoE-1B-7B (allenai/OLMoE-1B-0924: hidden 2048,
// 64 experts of width 1024, top-8, 16 heads, vocab 50304, full-width q/k norms): random bf16 weights,
// N(0, 0.02²) like a trained model's scale, norms 1, in the HF sharded layout (~2.1 GB). Written
// tensor by tensor through the streaming safetensors writer, so one tensor at a time is in memory.
// Cached under os.tmpdir() by shape and seed: generated once, reused while its `complete` marker is there.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeShardedCheckpoint } from '../../src-main/engine/io/safetensors-writer';
import { loadModelSpec } from '../../src-main/engine/model/registry';
import { globalTensors, layerTensors } from '../../src-main/engine/model/tensor-layout';
import { OLMOE_1B_7B } from '../../tests/support/sparse-checkpoints';

export const OLMOE_LAYERS = 2;
export const OLMOE_SPEC = {
  hidden: OLMOE_1B_7B.hidden_size,
  moeIntermediate: OLMOE_1B_7B.intermediate_size,
  experts: OLMOE_1B_7B.num_experts,
  topK: OLMOE_1B_7B.num_experts_per_tok,
};
const STD = 0.02;
const SEED = 18;
const SHARD_BYTES = 10 ** 9;
const MARKER = 'complete';

/** xorshift128+ uniforms in (0, 1), Box–Muller pairs: fast enough for 10⁹ values. */
function normals(out: Float32Array, std: number, seed: number): void {
  let s0 = (seed * 0x9e3779b1) >>> 0 || 1;
  let s1 = (seed ^ 0x85ebca6b) >>> 0 || 2;
  const next = () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 4294967296 + 1 / 8589934592;
  };
  for (let i = 0; i < out.length; i += 2) {
    const r = std * Math.sqrt(-2 * Math.log(next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
}

const seedOf = (name: string) => createHash('sha256').update(`${SEED}:${name}`).digest().readUInt32LE(0);

export function olmoeConfig(): Record<string, unknown> {
  return { ...OLMOE_1B_7B, num_hidden_layers: OLMOE_LAYERS };
}

/** The cached folder (generated when missing) and its weight bytes. */
export function olmoeCheckpoint(): { dir: string; bytes: number; generatedSeconds: number | null } {
  const config = olmoeConfig();
  const key = createHash('sha256').update(JSON.stringify({ config, STD, SEED })).digest('hex').slice(0, 12);
  const dir = path.join(tmpdir(), `moe-scale-olmoe-2l-${key}`);
  const marker = path.join(dir, MARKER);
  if (fs.existsSync(marker))
    return { dir, bytes: Number(fs.readFileSync(marker, 'utf8')), generatedSeconds: null };
  const t0 = performance.now();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const { spec } = loadModelSpec(dir);
  const tensors = [...globalTensors(spec)];
  for (let l = 0; l < spec.layers; l++) tensors.push(...layerTensors(spec, l));
  const r = writeShardedCheckpoint(
    dir,
    tensors.map((t) => ({
      name: t.name,
      dtype: 'BF16' as const,
      shape: t.shape,
      data: () => {
        const n = t.shape.reduce((a, b) => a * b, 1);
        // every norm (input, post-attention, q/k, final) starts at 1, as initialised and roughly as trained
        if (t.name.includes('norm')) return new Float32Array(n).fill(1);
        const v = new Float32Array(n);
        normals(v, STD, seedOf(t.name));
        return v;
      },
    })),
    { maxShardBytes: SHARD_BYTES },
  );
  fs.writeFileSync(marker, String(r.totalSize));
  return { dir, bytes: r.totalSize, generatedSeconds: (performance.now() - t0) / 1000 };
}
