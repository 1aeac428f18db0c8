// The four low-rank methods moved onto the step contract and runner v2 with identical results: the
// factors of one-step runs are pinned (sha256 of every A and B in layer/expert/projection order,
// params after, layers decomposed and rank) as runner v1 produced them (commit c7b0362).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend } from '../../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const pinned = JSON.parse(
  fs.readFileSync(path.resolve('tests/fixtures/pins/runner-v1-lowrank.json'), 'utf8'),
) as Record<string, { paramsAfter: number; layers: number[]; rank: number; sha256: string }>;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-pin-'));
const models = new Map<string, LoadedModel>();

beforeAll(async () => {
  await initBackend();
  for (const arch of ['mixtral', 'deepseek'] as const) {
    writeTinyCheckpoint(path.join(root, arch), { arch, layers: 4, seed: 3 });
    models.set(arch, openModel(path.join(root, arch)));
  }
});

afterAll(() => {
  for (const m of models.values()) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('runner v2 reproduces runner v1 one-step low-rank runs bit for bit', () => {
  it.each(Object.keys(pinned))('%s', async (key) => {
    const [arch, method] = key.split('/') as [string, string];
    const ratio = { svd: 0.2, asvd: 0.4, 'svd-llm': 0.4, 'moe-svd': 0.2 }[method]!;
    const rng = xoshiro128ss(9);
    const calibration = Array.from({ length: 6 }, () => Array.from({ length: 24 }, () => rng.int(256)));
    const config = parsePipelineConfig({
      version: 1,
      name: 'p',
      model: 'g',
      calibration: { samples: 6, seqLen: 24, batch: 3 },
      target: { ratio },
      steps: [{ method, params: {} }],
    });
    const run = () =>
      runPipeline({
        model: models.get(arch)!,
        config,
        calibration,
        workDir: path.join(root, key.replace('/', '-')),
      });
    if (key === 'deepseek/moe-svd') {
      // v1 ran this one and silently reported 15 % for a 20 % target (one layer eligible, rank 1):
      // v2 refuses it before any compute, with the reachable value
      await expect(run()).rejects.toThrow(/reaches a whole-model ratio of 0\.1503, not the target 0\.2/);
      return;
    }
    const r = await run();
    const h = crypto.createHash('sha256');
    const layers = [...r.overrides.keys()].sort((a, b) => a - b);
    for (const l of layers) {
      for (const e of r.overrides.get(l)!.moe!.experts)
        for (const p of ['gate', 'up', 'down'] as const) {
          const L = e[p];
          if (L.kind !== 'factored') throw new Error('expected factored experts');
          h.update(Buffer.from((L.A.dataSync() as Float32Array).buffer));
          h.update(Buffer.from((L.B.dataSync() as Float32Array).buffer));
        }
    }
    const want = pinned[key]!;
    expect({
      paramsAfter: r.paramsAfter,
      layers,
      rank: r.plan.steps[0]!.knobs.rank,
      sha256: h.digest('hex'),
    }).toEqual(want);
    disposeOverrides(r.overrides);
  });
});
