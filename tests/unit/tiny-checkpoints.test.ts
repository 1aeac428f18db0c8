import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOS_ID, TINY_ARCHS, type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const REF = 'tests/reference/hf_moe_reference.py';
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy) {
  console.warn(
    '\n!!!!!!!! python3 with numpy not found: the HF reference checks in tiny-checkpoints.test.ts are SKIPPED !!!!!!!!\n',
  );
}

let root = '';
const IDS = [BOS_ID, ...Array.from({ length: 23 }, (_, i) => (i * 37 + 11) % 256)];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tiny-ckpt-'));
  writeFileSync(join(root, 'ids.json'), JSON.stringify({ ids: IDS }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function header(file: string): Record<string, { dtype: string; shape: number[] }> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const h = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  delete h.__metadata__;
  return h;
}

function storedTensors(dir: string): Record<string, { dtype: string; shape: number[] }> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  return Object.assign({}, ...files.map((f) => header(join(dir, f))));
}

function refLogits(dir: string): { shape: number[]; logits: number[] } {
  const out = join(dir, 'ref-logits.json');
  const r = spawnSync(
    'python3',
    [REF, 'logits', '--model', dir, '--ids', join(root, 'ids.json'), '--out', out],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`reference failed on ${dir}: ${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

describe('writeTinyCheckpoint', () => {
  it.each(TINY_ARCHS)('%s: HF layout, tensor list matches the safetensors header', (arch) => {
    const dir = join(root, `${arch}-f32`);
    const { config, tensorNames } = writeTinyCheckpoint(dir, { arch });
    const stored = storedTensors(dir);
    expect(Object.keys(stored).sort()).toEqual([...tensorNames].sort());
    expect(Object.values(stored).every((t) => t.dtype === 'F32')).toBe(true);
    const onDisk = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(onDisk).toEqual(config);
    expect(onDisk.model_type).toBe(arch);
    expect(stored['model.embed_tokens.weight'].shape).toEqual([onDisk.vocab_size, onDisk.hidden_size]);
    expect('lm_head.weight' in stored).toBe(onDisk.tie_word_embeddings !== true);
    const gen = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8'));
    expect(gen.bos_token_id).toBe(onDisk.bos_token_id);
  });

  it('exercises each architecture-specific flag through its tensors', () => {
    const names = (arch: TinyArch) => writeTinyCheckpoint(join(root, `names-${arch}`), { arch }).tensorNames;
    const q2 = names('qwen2_moe');
    expect(q2).toContain('model.layers.0.mlp.shared_expert_gate.weight');
    expect(q2).toContain('model.layers.1.mlp.gate_proj.weight'); // mlp_only_layers = [1]
    expect(q2).toContain('model.layers.0.self_attn.q_proj.bias');
    const ds = names('deepseek');
    expect(ds).toContain('model.layers.0.mlp.up_proj.weight'); // first_k_dense_replace = 1
    expect(ds).toContain('model.layers.1.mlp.shared_experts.down_proj.weight');
    expect(ds).not.toContain('model.layers.0.mlp.gate.weight');
    const phi = names('phimoe');
    for (const n of ['model.norm.bias', 'lm_head.bias', 'model.layers.0.self_attn.o_proj.bias']) {
      expect(phi).toContain(n);
    }
    expect(phi).toContain('model.layers.1.block_sparse_moe.experts.3.w3.weight');
    const q3 = writeTinyCheckpoint(join(root, 'q3-shape'), { arch: 'qwen3_moe' });
    const st = storedTensors(join(root, 'q3-shape'));
    expect(st['model.layers.0.self_attn.q_norm.weight'].shape).toEqual([24]); // head_dim 24 != 64/4
    expect(q3.tensorNames).not.toContain('lm_head.weight');
    names('olmoe');
    const ol = storedTensors(join(root, 'names-olmoe'));
    expect(ol['model.layers.0.self_attn.k_norm.weight'].shape).toEqual([32]); // KV * head_dim, full width
  });

  it('is deterministic in the seed', () => {
    writeTinyCheckpoint(join(root, 's1'), { arch: 'olmoe', seed: 5 });
    writeTinyCheckpoint(join(root, 's2'), { arch: 'olmoe', seed: 5 });
    writeTinyCheckpoint(join(root, 's3'), { arch: 'olmoe', seed: 6 });
    const a = readFileSync(join(root, 's1', 'model.safetensors'));
    expect(a.equals(readFileSync(join(root, 's2', 'model.safetensors')))).toBe(true);
    expect(a.equals(readFileSync(join(root, 's3', 'model.safetensors')))).toBe(false);
  });

  it('writes N shards plus an index covering every tensor', () => {
    const dir = join(root, 'sharded');
    const { tensorNames } = writeTinyCheckpoint(dir, { arch: 'deepseek', shards: 3 });
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map).sort()).toEqual([...tensorNames].sort());
    const shardFiles = new Set(Object.values(index.weight_map));
    expect(shardFiles.size).toBeGreaterThanOrEqual(3);
    for (const f of shardFiles) {
      const h = header(join(dir, f as string));
      for (const name of Object.keys(h)) expect(index.weight_map[name]).toBe(f);
    }
  });

  it.each(['mixtral', 'qwen2_moe'] as TinyArch[])(
    '%s: tokenizer loads in @huggingface/tokenizers',
    (arch) => {
      const dir = join(root, `tok-${arch}`);
      const { config } = writeTinyCheckpoint(dir, { arch });
      const tok = new Tokenizer(
        JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
        JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
      );
      const text = 'Hello wörld\n\n ok';
      const bytes = [...Buffer.from(text, 'utf8')];
      const enc = tok.encode(text);
      expect(enc.ids).toEqual(arch === 'mixtral' ? [BOS_ID, ...bytes] : bytes);
      expect(Math.max(...enc.ids)).toBeLessThan(config.vocab_size as number);
      expect(tok.decode(enc.ids, { skip_special_tokens: true })).toBe(text);
    },
  );
});

describe.skipIf(!hasNumpy)('HF numpy reference on the tiny checkpoints', () => {
  it.each(TINY_ARCHS)('%s: F32, BF16 and sharded give finite [T, V] logits', (arch) => {
    const f32 = join(root, `ref-${arch}-f32`);
    const bf16 = join(root, `ref-${arch}-bf16`);
    const shard = join(root, `ref-${arch}-sharded`);
    const { config } = writeTinyCheckpoint(f32, { arch });
    writeTinyCheckpoint(bf16, { arch, dtype: 'BF16' });
    writeTinyCheckpoint(shard, { arch, shards: 2 });
    const a = refLogits(f32);
    const b = refLogits(bf16);
    const c = refLogits(shard);
    expect(a.shape).toEqual([IDS.length, config.vocab_size]);
    expect(a.logits.length).toBe(IDS.length * (config.vocab_size as number));
    expect(a.logits.every(Number.isFinite)).toBe(true);
    expect(c.logits).toEqual(a.logits); // sharding is lossless
    const diffs = a.logits.map((v, i) => Math.abs(v - b.logits[i])).sort((x, y) => x - y);
    expect(diffs[diffs.length - 1]).toBeGreaterThan(0); // BF16 really rounds...
    // ...but only rounds; a few tokens may flip a routing decision (top-k / sparsemixer mask are
    // discontinuous), so the median is the stable measure
    expect(diffs[diffs.length >> 1]).toBeLessThan(0.05);
  });

  it('reference self-checks pass', () => {
    const ckpts = join(root, 'selfcheck');
    for (const arch of TINY_ARCHS) writeTinyCheckpoint(join(ckpts, arch), { arch });
    writeTinyCheckpoint(join(ckpts, '_variants', 'mixtral-f32-sharded'), { arch: 'mixtral', shards: 3 });
    writeTinyCheckpoint(join(ckpts, '_variants', 'mixtral-bf16'), { arch: 'mixtral', dtype: 'BF16' });
    const r = spawnSync('python3', ['tests/reference/test_reference.py', ckpts], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('all reference self-checks passed');
    expect(r.status).toBe(0);
  });

  it('ppl follows METHODS §8.1 window accounting', () => {
    const dir = join(root, 'ppl-olmoe');
    writeTinyCheckpoint(dir, { arch: 'olmoe' });
    const ids = Array.from({ length: 100 }, (_, i) => (i * 53 + 7) % 258);
    writeFileSync(join(root, 'ppl-ids.json'), JSON.stringify({ ids }));
    const r = spawnSync(
      'python3',
      [REF, 'ppl', '--model', dir, '--ids', join(root, 'ppl-ids.json'), '--seq-len', '32'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.windows).toBe(3); // 100 // 32, tail of 4 dropped
    expect(out.tokens).toBe(3 * 31);
    expect(out.ppl).toBeCloseTo(Math.exp(out.nll / out.tokens), 10);
  });
});
