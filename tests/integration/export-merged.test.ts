// Issue 11: exported merged checkpoints count exactly what the run accounted. Every layer keeping the
// same number of groups exports as a plain Hugging Face checkpoint (experts renumbered, config
// rewritten) whose logits are the in-memory merged model's; unequal counts fall back to the
// workbench format with the reason recorded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModel } from '../../src-main/engine/export/export-model';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { summarize } from '../../src-main/engine/model/inspect';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend } from '../../src-main/engine/tensor/backend';
import { type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-merged-'));
const rng = xoshiro128ss(17);
const calibration = Array.from({ length: 6 }, () => Array.from({ length: 24 }, () => rng.int(256)));
const models = new Map<TinyArch, LoadedModel>();

async function logits(m: LoadedModel, overrides: ReadonlyMap<number, LayerOverride>): Promise<Float32Array> {
  const exec = new StreamingExecutor(m, { overrides: new Map(overrides) });
  const x = await exec.forward(exec.embed(calibration.slice(0, 2)));
  const parts: Float32Array[] = [];
  await exec.logitsChunks(x.hidden, (_r, l) => {
    parts.push(l.dataSync() as Float32Array);
  });
  x.hidden.dispose();
  exec.dispose();
  return Float32Array.from(parts.flatMap((p) => [...p]));
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

beforeAll(async () => {
  await initBackend();
  for (const [arch, layers, seed] of [
    ['qwen3_moe', 3, 5],
    ['deepseek', 3, 4],
  ] as const) {
    writeTinyCheckpoint(path.join(root, arch), { arch, layers, seed });
    models.set(arch, openModel(path.join(root, arch)));
  }
});

afterAll(() => {
  for (const m of models.values()) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const merge = (params: Record<string, unknown>) =>
  parsePipelineConfig({
    version: 2,
    name: 'merge-export',
    model: 'generated',
    calibration: { samples: 6, seqLen: 24, batch: 3 },
    steps: [{ method: 'expert-merge', params }],
  });

describe('exporting merged models', () => {
  it.each(['qwen3_moe', 'deepseek'] as const)(
    '%s: equal groups per layer → plain HF checkpoint; params = accounting; logits = the in-memory merge',
    async (arch) => {
      const model = models.get(arch)!;
      const moeLayers = model.spec.layerKinds.filter((k) => k === 'moe').length;
      const groups = 4 * moeLayers; // 8 → 4 experts in every MoE layer
      const r = await runPipeline({
        model,
        config: merge({ groups, grouping: 'global', similarity: 'output', metric: 'cosine' }),
        calibration,
        workDir: path.join(root, `w-${arch}`),
      });
      expect(r.paramsAfter).toBe(r.plan.planned.at(-1)!.paramsAfter);
      const out = path.join(root, `hf-${arch}`);
      const e = exportModel(model, r.overrides, out, { format: 'dense', dtype: 'F32' });
      expect(e.format).toBe('dense');
      expect(e.fallbackReason).toBeUndefined();
      const hf = openModel(out);
      expect(hf.spec.experts).toBe(4);
      expect(summarize(hf).params.total).toBe(r.paramsAfter);
      expect(e.params).toBe(r.paramsAfter);
      expect(maxAbsDiff(await logits(hf, new Map()), await logits(model, r.overrides))).toBeLessThan(1e-5);
      hf.checkpoint.close();
      disposeOverrides(r.overrides);
    },
  );

  it('unequal groups per layer → the workbench format with the reason; params = accounting', async () => {
    const model = models.get('qwen3_moe')!;
    const r = await runPipeline({
      model,
      config: merge({ groups: 13, grouping: 'hc-smoe' }), // §2.3: 4, 4, 5
      calibration,
      workDir: path.join(root, 'w-unequal'),
    });
    const out = path.join(root, 'wb-unequal');
    const e = exportModel(model, r.overrides, out, { format: 'dense', dtype: 'F32' });
    expect(e.format).toBe('factored');
    expect(e.fallbackReason).toMatch(/expert/);
    const wb = openModel(out);
    expect(summarize(wb).params.total).toBe(r.paramsAfter);
    expect(maxAbsDiff(await logits(wb, new Map()), await logits(model, r.overrides))).toBeLessThan(1e-5);
    wb.checkpoint.close();
    disposeOverrides(r.overrides);
  });
});
