// bf16 checkpoints decode exactly; sharded loads equal unsharded ones.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src-main/engine/io/safetensors-writer';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { openModel } from '../../src-main/engine/model/model';
import { initBackend } from '../../src-main/engine/tensor/backend';
import { type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const SEQ = Array.from({ length: 20 }, (_, i) => (i * 37 + 5) % 256);

async function logitsOf(dir: string): Promise<Float32Array> {
  const m = openModel(dir);
  try {
    return await sequenceLogits(m, SEQ);
  } finally {
    m.checkpoint.close();
  }
}

describe('checkpoint variants', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend();
    root = mkdtempSync(path.join(tmpdir(), 'engine-ck-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const arch of ['qwen2_moe', 'phimoe'] as TinyArch[]) {
    it(`${arch}: bf16 logits equal those of an f32 copy of the rounded weights`, async () => {
      const bf = path.join(root, `${arch}-bf16`);
      writeTinyCheckpoint(bf, { arch, dtype: 'BF16', seed: 3 });
      const f32 = path.join(root, `${arch}-f32-rounded`);
      mkdirSync(f32);
      const m = openModel(bf);
      const names = m.checkpoint.names();
      writeSafetensors(
        path.join(f32, 'model.safetensors'),
        names.map((name) => ({
          name,
          dtype: 'F32',
          shape: m.checkpoint.info(name).shape,
          data: () => m.checkpoint.readF32(name),
        })),
      );
      m.checkpoint.close();
      copyFileSync(path.join(bf, 'config.json'), path.join(f32, 'config.json'));
      const a = await logitsOf(bf);
      const b = await logitsOf(f32);
      expect(a.length).toBe(SEQ.length * 272);
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  }

  it('a 3-shard checkpoint gives exactly the logits of the single-file one', async () => {
    const one = path.join(root, 'olmoe-1');
    const three = path.join(root, 'olmoe-3');
    writeTinyCheckpoint(one, { arch: 'olmoe', seed: 5 });
    writeTinyCheckpoint(three, { arch: 'olmoe', seed: 5, shards: 3 });
    const a = await logitsOf(one);
    const b = await logitsOf(three);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
