// Runner v2, one low-rank step, on generated checkpoints: exact accounting, ratio 0 = unchanged model, cancel keeps the
// finished layers, resume after an interruption reproduces the uninterrupted run bit for bit, and
// the memory pre-flight refuses with the estimate in the message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, EngineError } from '../../src-main/engine/errors';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { forwardLogits } from '../support/forward-logits';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'compress-runner-'));
let model: LoadedModel;
let deepseek: LoadedModel;
const rng = xoshiro128ss(9);
const calibration = Array.from({ length: 6 }, () => Array.from({ length: 24 }, () => rng.int(256)));

const config = (method: string, ratio: number, params: Record<string, unknown> = {}) =>
  parsePipelineConfig({
    version: 1,
    name: `${method}-${ratio}`,
    model: 'generated',
    calibration: { samples: 6, seqLen: 24, batch: 3 },
    target: { ratio },
    steps: [{ method, params }],
  });

const logits = (m: LoadedModel, overrides: Map<number, LayerOverride>) =>
  forwardLogits(m, overrides, calibration.slice(0, 2));

beforeAll(async () => {
  await initBackend();
  writeTinyCheckpoint(path.join(root, 'mixtral'), { arch: 'mixtral', layers: 4, seed: 3 });
  writeTinyCheckpoint(path.join(root, 'deepseek'), { arch: 'deepseek', layers: 3, seed: 4 });
  model = openModel(path.join(root, 'mixtral'));
  deepseek = openModel(path.join(root, 'deepseek'));
});

afterAll(() => {
  model.checkpoint.close();
  deepseek.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('compression runner', () => {
  it('ratio 0 leaves the model unchanged: no layer decomposed, identical logits', async () => {
    const r = await runPipeline({
      model,
      config: config('svd-llm', 0),
      calibration,
      workDir: path.join(root, 'w0'),
    });
    expect(r.overrides.size).toBe(0);
    expect(r.plan.steps[0]!.noop).toBe(true);
    expect(r.paramsAfter).toBe(r.paramsBefore);
    expect(r.achievedRatio).toBe(0);
    const a = await logits(model, new Map());
    const b = await logits(model, r.overrides);
    expect(b).toEqual(a);
  });

  it.each([
    ['svd', 0.2],
    ['asvd', 0.4],
    ['svd-llm', 0.4],
    ['moe-svd', 0.2],
  ])(
    '%s at %f: accounting of the installed views equals the planned count; tensors do not leak',
    async (method, ratio) => {
      const before = tf.memory().numTensors;
      const r = await runPipeline({
        model,
        config: config(method, ratio),
        calibration,
        workDir: path.join(root, `w-${method}`),
      });
      expect(r.overrides.size).toBeGreaterThan(0);
      expect(r.paramsAfter).toBe(r.plan.planned[0]!.paramsAfter);
      expect(Math.abs(r.achievedRatio - ratio)).toBeLessThan(0.02);
      expect(r.records.size).toBe(r.overrides.size);
      const lg = await logits(model, r.overrides);
      expect(lg.every(Number.isFinite)).toBe(true);
      disposeOverrides(r.overrides);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('DeepSeek: the dense layer 0 and the shared experts are untouched', async () => {
    const r = await runPipeline({
      model: deepseek,
      config: config('svd-llm', 0.2),
      calibration,
      workDir: path.join(root, 'w-ds'),
    });
    expect([...r.overrides.keys()].sort()).toEqual([1, 2]);
    const v = r.overrides.get(1)!.moe!;
    expect(v.shared?.gate.kind).toBe('dense');
    expect(v.experts.every((e) => e.gate.kind === 'factored')).toBe(true);
    expect(r.paramsAfter).toBe(r.plan.planned[0]!.paramsAfter);
    disposeOverrides(r.overrides);
  });

  it('cancel keeps finished layers; resume continues from the last one and matches an uninterrupted run', async () => {
    const cfg = config('svd-llm', 0.3);
    const full = await runPipeline({ model, config: cfg, calibration, workDir: path.join(root, 'w-full') });
    const dir = path.join(root, 'w-resume');
    const ac = new AbortController();
    await expect(
      runPipeline({
        model,
        config: cfg,
        calibration,
        workDir: dir,
        signal: ac.signal,
        onLayer: (_s, l) => {
          if (l === 1) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    const files = fs.readdirSync(path.join(dir, 'steps', '00')).sort();
    expect(files).toEqual([
      'layer-000.json',
      'layer-000.safetensors',
      'layer-001.json',
      'layer-001.safetensors',
    ]);
    const resumed = await runPipeline({ model, config: cfg, calibration, workDir: dir, resume: true });
    expect(resumed.resumedAfter).toEqual({ step: 0, layer: 0 });
    expect(resumed.paramsAfter).toBe(full.paramsAfter);
    for (const l of full.overrides.keys()) {
      const a = SafetensorsFile.open(path.join(root, 'w-full', 'steps', '00', `layer-00${l}.safetensors`));
      const b = SafetensorsFile.open(path.join(dir, 'steps', '00', `layer-00${l}.safetensors`));
      expect(b.names().sort()).toEqual(a.names().sort());
      for (const n of a.names()) expect(b.readF32(n)).toEqual(a.readF32(n));
      a.close();
      b.close();
    }
    expect(await logits(model, resumed.overrides)).toEqual(await logits(model, full.overrides));
    disposeOverrides(full.overrides);
    disposeOverrides(resumed.overrides);
  });

  it('a 2-step run (expert-prune → svd) stopped inside its second step resumes bit-identically', async () => {
    const cfg = parsePipelineConfig({
      version: 2,
      name: 'prune-svd',
      model: 'generated',
      calibration: { samples: 6, seqLen: 24, batch: 3 },
      target: { ratio: 0.35, contributions: { P: 0.4, D: 0.6 } },
      steps: [
        { method: 'expert-prune', params: { metric: 'reap' } },
        { method: 'svd', params: {} },
      ],
    });
    const full = await runPipeline({ model, config: cfg, calibration, workDir: path.join(root, 'w2-full') });
    expect(full.plan.steps.map((s) => s!.method)).toEqual(['expert-prune', 'svd']);
    expect(full.plan.steps[0]!.knobs.expertsRemoved).toBeGreaterThan(0);
    expect(full.plan.steps[1]!.knobs.rank).toBeGreaterThan(0);
    expect(Math.abs(full.achievedRatio - 0.35)).toBeLessThanOrEqual(full.plan.tolerance);
    const dir = path.join(root, 'w2-resume');
    const ac = new AbortController();
    await expect(
      runPipeline({
        model,
        config: cfg,
        calibration,
        workDir: dir,
        signal: ac.signal,
        onLayer: (s, l) => {
          if (s === 1 && l === 1) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    const resumed = await runPipeline({ model, config: cfg, calibration, workDir: dir, resume: true });
    expect(resumed.resumedAfter).toEqual({ step: 1, layer: 0 });
    // the exported checkpoint's counted parameters equal the run's accounting, in both formats
    const { exportModel } = await import('../../src-main/engine/export/export-model');
    const { summarize } = await import('../../src-main/engine/model/inspect');
    for (const format of ['factored', 'dense'] as const) {
      const out = path.join(root, `w2-export-${format}`);
      exportModel(model, resumed.overrides, out, { format, dtype: 'F32' });
      const m = openModel(out);
      expect(summarize(m).params.total).toBe(resumed.paramsAfter);
      m.checkpoint.close();
    }
    expect(resumed.paramsAfter).toBe(full.paramsAfter);
    expect([...resumed.records.keys()].sort()).toEqual([...full.records.keys()].sort());
    expect(await logits(model, resumed.overrides)).toEqual(await logits(model, full.overrides));
    disposeOverrides(full.overrides);
    disposeOverrides(resumed.overrides);
  });

  it('a damaged or torn work file is detected on resume: that layer is recomputed, the result is unchanged', async () => {
    const cfg = config('svd', 0.3);
    const full = await runPipeline({
      model,
      config: cfg,
      calibration,
      workDir: path.join(root, 'w-full-svd'),
    });
    const dir = path.join(root, 'w-damaged');
    const ac = new AbortController();
    await expect(
      runPipeline({
        model,
        config: cfg,
        calibration,
        workDir: dir,
        signal: ac.signal,
        onLayer: (_s, l) => {
          if (l === 2) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    // flip bytes in the middle of layer 1's factors: its checksum no longer matches
    const f = path.join(dir, 'steps', '00', 'layer-001.safetensors');
    const buf = fs.readFileSync(f);
    buf[buf.length - 8] ^= 0xff;
    fs.writeFileSync(f, buf);
    const resumed = await runPipeline({ model, config: cfg, calibration, workDir: dir, resume: true });
    expect(resumed.resumedAfter).toEqual({ step: 0, layer: 0 });
    expect(await logits(model, resumed.overrides)).toEqual(await logits(model, full.overrides));
    disposeOverrides(full.overrides);
    disposeOverrides(resumed.overrides);
  });

  it('memory pre-flight refuses a run that cannot fit, with the estimate and the available amount', async () => {
    await expect(
      runPipeline({
        model,
        config: config('svd-llm', 0.3),
        calibration,
        workDir: path.join(root, 'w-mem'),
        availableMemoryBytes: 1e6,
      }),
    ).rejects.toThrow(/needs about [\d.]+ GiB .*only 0\.00 GiB is available/);
    await expect(
      runPipeline({
        model,
        config: config('svd-llm', 0.3),
        calibration,
        workDir: path.join(root, 'w-mem'),
        availableMemoryBytes: 1e6,
      }),
    ).rejects.toBeInstanceOf(EngineError);
  });
});
