import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, transpose2d } from '../../src-main/engine/io/checkpoint';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { type WriteEntry, writeShardedCheckpoint } from '../../src-main/engine/io/safetensors-writer';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { tempDir } from './io-helpers';

const root = tempDir('moe-ckpt-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

const ramp = (n: number, k: number) => Float32Array.from({ length: n }, (_, j) => ((j * 7 + k) % 13) - 6);

function entries(): WriteEntry[] {
  // 4 tensors of 2x8 f32 = 64 bytes each, plus a bf16 one of 32 bytes.
  return [
    { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [2, 8], data: () => ramp(16, 0) },
    { name: 'model.layers.0.mlp.gate.weight', dtype: 'F32', shape: [2, 8], data: () => ramp(16, 1) },
    { name: 'model.layers.0.mlp.experts.0.w1.weight', dtype: 'BF16', shape: [4, 4], data: () => ramp(16, 2) },
    { name: 'model.layers.1.mlp.gate.weight', dtype: 'F32', shape: [2, 8], data: () => ramp(16, 3) },
    { name: 'lm_head.weight', dtype: 'F32', shape: [8, 2], data: () => ramp(16, 4) },
  ];
}

describe('writeShardedCheckpoint + Checkpoint', () => {
  it('shards by size, writes an HF index, and reads every tensor back exactly', () => {
    const dir = path.join(root, 'sharded');
    const res = writeShardedCheckpoint(dir, entries(), { maxShardBytes: 100 });
    // greedy: [64] [64+32] [64] [64] -> 4 shards
    expect(res.files.map((f) => path.basename(f))).toEqual([
      'model-00001-of-00004.safetensors',
      'model-00002-of-00004.safetensors',
      'model-00003-of-00004.safetensors',
      'model-00004-of-00004.safetensors',
    ]);
    expect(res.totalSize).toBe(4 * 64 + 32);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata).toEqual({ total_size: 288 });
    expect(index.weight_map['model.layers.0.mlp.experts.0.w1.weight']).toBe(
      'model-00002-of-00004.safetensors',
    );
    expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(false);

    const ck = Checkpoint.open(dir);
    expect(ck.names().sort()).toEqual(
      entries()
        .map((e) => e.name)
        .sort(),
    );
    expect(ck.totalBytes()).toBe(288);
    expect(ck.dtypes()).toEqual({ F32: 4, BF16: 1 });
    entries().forEach((e, k) => {
      expect(Array.from(ck.readF32(e.name))).toEqual(Array.from(ramp(16, k)));
    });
    ck.validate();
    ck.close();
  });

  it('opens shards lazily: reading one tensor opens only its shard', () => {
    const dir = path.join(root, 'lazy');
    writeShardedCheckpoint(dir, entries(), { maxShardBytes: 100 });
    const ck = Checkpoint.open(dir);
    // Corrupt an unrelated shard: a lazy reader never notices.
    const other = path.join(dir, 'model-00004-of-00004.safetensors');
    const saved = fs.readFileSync(other);
    fs.writeFileSync(other, 'garbage');
    try {
      expect(ck.readF32('model.embed_tokens.weight').length).toBe(16);
      expect(() => ck.readF32('lm_head.weight')).toThrow(/model-00004-of-00004\.safetensors/);
    } finally {
      fs.writeFileSync(other, saved);
      ck.close();
    }
  });

  it('writes a single model.safetensors when everything fits, replacing a stale index', () => {
    const dir = path.join(root, 'restale');
    writeShardedCheckpoint(dir, entries(), { maxShardBytes: 100 });
    const res = writeShardedCheckpoint(dir, entries(), { maxShardBytes: 1 << 20 });
    expect(res.files).toEqual([path.join(dir, 'model.safetensors')]);
    expect(fs.existsSync(path.join(dir, 'model.safetensors.index.json'))).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    // and back to 2 shards: the single file goes
    writeShardedCheckpoint(dir, entries(), { maxShardBytes: 200 });
    expect(fs.readdirSync(dir).sort()).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
    ]);
    writeShardedCheckpoint(dir, entries(), { maxShardBytes: 1 << 20 });
    const ck = Checkpoint.open(dir);
    expect(ck.names()).toHaveLength(5);
    expect(SafetensorsFile.open(path.join(dir, 'model.safetensors')).metadata.format).toBe('pt');
    ck.close();
  });

  it('readTensor returns f32 tensors, transposed once on request', () => {
    const dir = path.join(root, 'single');
    writeShardedCheckpoint(dir, entries(), { maxShardBytes: 1 << 20 });
    const ck = Checkpoint.open(dir);
    const a = ck.readTensor('lm_head.weight');
    const t = ck.readTensor('lm_head.weight', { transpose: true });
    expect(a.shape).toEqual([8, 2]);
    expect(t.shape).toEqual([2, 8]);
    expect(t.dtype).toBe('float32');
    const ref = tf.transpose(a);
    expect(Array.from(t.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([a, t, ref]);
    expect(() => ck.readTensor('model.embed_tokens.weight', { transpose: true })).not.toThrow();
    ck.close();
  });

  it('transpose2d handles non-square, non-block-multiple shapes', () => {
    const rows = 67;
    const cols = 130;
    const src = Float32Array.from({ length: rows * cols }, (_, i) => i);
    const out = transpose2d(src, rows, cols);
    let bad = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) if (out[c * rows + r] !== src[r * cols + c]) bad++;
    expect(bad).toBe(0);
  });
});
