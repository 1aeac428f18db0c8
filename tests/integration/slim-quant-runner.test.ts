// Slimming and quantization steps through the runner on the embedded tiny-mixtral (and a generated
// Qwen2-MoE with a shared expert and its gate): wanda → gptq stopped inside the second step resumes
// bit-identically; the planned bytes and nonzeros are those of what the run produced, and of the
// exported workbench checkpoint read back; 'dense' calibration gives later layers the inputs the
// model produced before the step (§10.6), 'compressed' does not; idle experts get the §10.3 fallback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src-main/engine/errors';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { getMethod } from '../../src-main/engine/methods/catalog';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride, Linear } from '../../src-main/engine/model/types';
import { planBudget } from '../../src-main/engine/pipeline/budget';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { stateFromSpec, stateNonzeros, stateWeightBytes } from '../../src-main/engine/pipeline/plan-state';
import { disposeOverrides, initialState, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { forwardLogits } from '../support/forward-logits';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

/** several whole runs on the embedded model (a shared CI core runs them several times slower) */
const LONG = 600_000;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slim-quant-runner-'));
const TINY = path.resolve(__dirname, '../../resources/models/tiny-mixtral');
let model: LoadedModel;
let qwen: LoadedModel;
const rng = xoshiro128ss(13);
const calibration = Array.from({ length: 6 }, () => Array.from({ length: 24 }, () => 3 + rng.int(250)));

const config = (
  steps: { method: string; params: Record<string, unknown> }[],
  target?: Record<string, unknown>,
) =>
  parsePipelineConfig({
    version: 2,
    name: 'slim-quant',
    model: 'tiny-mixtral',
    calibration: { samples: 6, seqLen: 24, batch: 3 },
    ...(target ? { target } : {}),
    steps,
  });

const logits = (m: LoadedModel, overrides: Map<number, LayerOverride>) =>
  forwardLogits(m, overrides, calibration.slice(0, 2));

const weightsOf = (L: Linear) => {
  if (L.kind !== 'dense' && L.kind !== 'quantized')
    throw new Error(`expected a dense or quantized linear, got ${L.kind}`);
  return Array.from(L.w.dataSync());
};

beforeAll(async () => {
  await initBackend();
  model = openModel(TINY);
  writeTinyCheckpoint(path.join(root, 'qwen2'), { arch: 'qwen2_moe', layers: 3, seed: 4 });
  qwen = openModel(path.join(root, 'qwen2'));
});

afterAll(() => {
  model.checkpoint.close();
  qwen.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('wanda → gptq on tiny-mixtral', () => {
  const steps = [
    { method: 'wanda', params: { sparsity: 0.5, pattern: 'unstructured' } },
    { method: 'gptq', params: { bits: 4, groupSize: 32, actOrder: true } },
  ];

  it(
    'resumes bit-identically inside the second step; planned bytes = produced bytes = exported bytes',
    async () => {
      const cfg = config(steps);
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
          onLayer: (s, l) => {
            if (s === 1 && l === 1) ac.abort();
          },
        }),
      ).rejects.toBeInstanceOf(CancelledError);
      const resumed = await runPipeline({ model, config: cfg, calibration, workDir: dir, resume: true });
      // layers 0 and 1 of the gptq step are done: resuming propagates them through their wanda state
      expect(resumed.resumedAfter).toEqual({ step: 1, layer: 1 });
      expect(await logits(model, resumed.overrides)).toEqual(await logits(model, full.overrides));
      for (const l of full.overrides.keys()) {
        const a = full.overrides.get(l)!.moe!.experts[0]!.down;
        const b = resumed.overrides.get(l)!.moe!.experts[0]!.down;
        expect(a.kind).toBe('quantized');
        expect(b.kind).toBe('quantized');
        if (a.kind === 'quantized' && b.kind === 'quantized') {
          expect(Array.from(b.q.codes)).toEqual(Array.from(a.q.codes));
          expect(Array.from(b.q.gIdx)).toEqual(Array.from(a.q.gIdx));
          expect(weightsOf(b)).toEqual(weightsOf(a));
        }
      }
      // the shape plan's bytes are what the run produced, step by step
      const inputs = cfg.steps.map((s) => ({ decl: getMethod(s.method), params: s.params }));
      const plan = planBudget(inputs, stateFromSpec(model.spec, 4), {});
      expect(full.plan.steps.map((s) => s!.weightBytesAfter)).toEqual(
        plan.steps.map((s) => s.weightBytesAfter),
      );
      expect(full.plan.steps.map((s) => s!.nonzerosAfter)).toEqual(plan.steps.map((s) => s.nonzerosAfter));
      expect(full.weightBytesAfter).toBe(plan.weightBytesAfter);
      expect(resumed.weightBytesAfter).toBe(plan.weightBytesAfter);
      expect(plan.steps[0]!.nonzerosAfter).toBeLessThan(plan.nonzerosBefore);
      expect(plan.weightBytesAfter).toBeLessThan(plan.steps[0]!.weightBytesAfter);
      // the workbench checkpoint stores codes/scales/zeros/g_idx: read back, same logits and bytes
      const { exportModel } = await import('../../src-main/engine/export/export-model');
      const out = path.join(root, 'export');
      exportModel(model, resumed.overrides, out, { format: 'factored', dtype: 'F32' });
      const back = openModel(out);
      try {
        expect(stateWeightBytes(initialState(back, 4))).toBe(plan.weightBytesAfter);
        expect(await logits(back, new Map())).toEqual(await logits(model, full.overrides));
      } finally {
        back.checkpoint.close();
      }
      disposeOverrides(full.overrides);
      disposeOverrides(resumed.overrides);
    },
    LONG,
  );

  it('records sparsity and bits per layer and expert', async () => {
    const r = await runPipeline({
      model,
      config: config(steps),
      calibration,
      workDir: path.join(root, 'w-rec'),
    });
    const s0 = r.records.get('0:0')!;
    expect(s0.pattern).toBe('unstructured');
    expect(s0.sparsity).toBe(0.5);
    expect((s0.expertSparsity as number[]).every((x) => x === 0.5)).toBe(true);
    const q0 = r.records.get('1:0')!;
    expect(q0.bits).toBe(4);
    expect(q0.expertBits).toEqual(Array(model.spec.experts).fill(4));
    expect((q0.tokens as number[]).reduce((a, b) => a + b, 0)).toBe(6 * 24 * model.spec.routing.topK);
    disposeOverrides(r.overrides);
  });

  it(
    "calibrateOn 'dense' gives a layer the inputs of the model before the step, 'compressed' those of the compressed layers",
    async () => {
      const one = (calibrateOn: string, onlyLayers?: number[]) =>
        runPipeline({
          model,
          config: config([
            { method: 'sparsegpt', params: { sparsity: 0.5, pattern: 'unstructured', calibrateOn } },
          ]),
          calibration,
          workDir: path.join(root, `w-cal-${calibrateOn}-${onlyLayers?.join('') ?? 'all'}`),
          ...(onlyLayers ? { onlyLayers } : {}),
        });
      const alone = await one('dense', [2]); // layers 0, 1 unchanged: layer 2 sees the dense inputs
      const dense = await one('dense');
      const comp = await one('compressed');
      const w = (r: Awaited<ReturnType<typeof one>>) => weightsOf(r.overrides.get(2)!.moe!.experts[0]!.gate);
      expect(w(dense)).toEqual(w(alone));
      expect(w(comp)).not.toEqual(w(alone));
      for (const r of [alone, dense, comp]) disposeOverrides(r.overrides);
    },
    LONG,
  );

  it('a weight-bytes budget: expert-drop after gptq int4 is solved on bytes', async () => {
    const cfg = config(
      [
        { method: 'gptq', params: { bits: 4, groupSize: 128 } },
        { method: 'expert-drop', params: {} },
      ],
      { ratio: 0.5, unit: 'bytes' },
    );
    const inputs = cfg.steps.map((s) => ({ decl: getMethod(s.method), params: s.params }));
    const s0 = stateFromSpec(model.spec, 2);
    const plan = planBudget(inputs, s0, cfg.target!);
    expect(plan.unit).toBe('bytes');
    expect(plan.steps[1]!.knobs.expertsRemoved).toBeGreaterThan(0);
    expect(Math.abs(plan.achievedRatio - 0.5)).toBeLessThanOrEqual(plan.tolerance);
    expect(plan.achievedRatio).toBeCloseTo(1 - plan.weightBytesAfter / plan.weightBytesBefore, 12);
    // gptq alone already removes bytes: the drop needed is smaller than for the same ratio in params
    const byParams = planBudget(inputs, s0, { ratio: 0.5 });
    expect(byParams.unit).toBe('params');
    expect(byParams.steps[1]!.knobs.expertsRemoved).toBeGreaterThan(plan.steps[1]!.knobs.expertsRemoved!);
  });
});

describe('layer output error on the calibration tokens (tiny-mixtral, layer 0)', () => {
  /** Σ ‖y − y_dense‖² of layer 0 over the calibration batches */
  async function layerError(override: LayerOverride | undefined): Promise<number> {
    const dense = new StreamingExecutor(model, {});
    const comp = new StreamingExecutor(model, { overrides: new Map(override ? [[0, override]] : []) });
    let e = 0;
    for (let i = 0; i < calibration.length; i += 3) {
      const x = dense.embed(calibration.slice(i, i + 3));
      const a = await dense.runLayer(0, x, {});
      const b = await comp.runLayer(0, x, {});
      const d = tf.tidy(() => tf.sum(tf.square(tf.sub(a, b))));
      e += d.dataSync()[0]!;
      for (const t of [x.hidden, a, b, d]) t.dispose();
    }
    dense.dispose();
    comp.dispose();
    return e;
  }

  it(
    'SparseGPT ≤ Wanda ≤ Magnitude (50 % unstructured and 2:4), GPTQ ≤ RTN (int4 g32, int8 per channel)',
    async () => {
      const err = async (method: string, params: Record<string, unknown>) => {
        const r = await runPipeline({
          model,
          config: config([{ method, params }]),
          calibration,
          workDir: path.join(root, `w-err-${method}-${JSON.stringify(params).replace(/\W/g, '')}`),
          onlyLayers: [0],
        });
        const e = await layerError(r.overrides.get(0));
        disposeOverrides(r.overrides);
        return e;
      };
      for (const pattern of ['unstructured', '2:4']) {
        const p = { sparsity: 0.5, pattern };
        const [s, w, m] = [await err('sparsegpt', p), await err('wanda', p), await err('magnitude', p)];
        expect(s, pattern).toBeLessThanOrEqual(w);
        expect(w, pattern).toBeLessThanOrEqual(m);
      }
      for (const q of [
        { bits: 4, groupSize: 32 },
        { bits: 8, groupSize: -1 },
      ]) {
        const [g, r] = [await err('gptq', q), await err('rtn', q)];
        expect(g, JSON.stringify(q)).toBeLessThanOrEqual(r);
      }
      expect(await err('magnitude', { sparsity: 0, pattern: 'unstructured' })).toBe(0);
    },
    LONG,
  );
});

describe('Qwen2-MoE: shared expert and router inclusion', () => {
  it('includeShared slims the shared expert; includeRouter slims router and shared gate and says so', async () => {
    const cfg = parsePipelineConfig({
      version: 2,
      name: 'qwen-slim',
      model: 'generated',
      calibration: { samples: 6, seqLen: 24, batch: 3 },
      steps: [
        {
          method: 'wanda',
          params: { sparsity: 0.5, pattern: '2:4', includeShared: true, includeRouter: true },
        },
      ],
    });
    const r = await runPipeline({
      model: qwen,
      config: cfg,
      calibration,
      workDir: path.join(root, 'w-qwen'),
    });
    const [l] = [...r.overrides.keys()];
    const v = r.overrides.get(l!)!.moe!;
    expect(v.routerSparse?.pattern).toBe('2:4');
    expect(v.shared?.gateSparse?.pattern).toBe('2:4');
    const sg = v.shared!.gate;
    expect(sg.kind === 'dense' && sg.sparse?.pattern).toBe('2:4');
    expect(String(r.records.get(`0:${l}`)!.warning)).toMatch(/reproduces the Unified reference/);
    const inputs = cfg.steps.map((s) => ({ decl: getMethod(s.method), params: s.params }));
    const plan = planBudget(inputs, stateFromSpec(qwen.spec, 4), {});
    expect(r.weightBytesAfter).toBe(plan.weightBytesAfter);
    expect(r.nonzerosAfter).toBe(plan.nonzerosAfter);
    expect(stateNonzeros(initialState(qwen, 4))).toBe(r.paramsBefore);
    disposeOverrides(r.overrides);
  });

  it('an expert no calibration token reaches gets the §10.3 fallback, counted', async () => {
    // one calibration token: most experts of each layer see nothing
    const cfg = parsePipelineConfig({
      version: 2,
      name: 'qwen-gptq',
      model: 'generated',
      calibration: { samples: 1, seqLen: 2, batch: 1 },
      steps: [{ method: 'gptq', params: { bits: 8, groupSize: -1 } }],
    });
    const r = await runPipeline({
      model: qwen,
      config: cfg,
      calibration: [[5, 9]],
      workDir: path.join(root, 'w-idle'),
    });
    const rec = [...r.records.values()][0]!;
    const idle = (rec.tokens as number[]).filter((t) => t === 0).length;
    expect(idle).toBeGreaterThan(0);
    expect(rec.fallbackExperts).toBe(idle);
    expect(rec.fallbackMatrices).toBe(3 * idle);
    disposeOverrides(r.overrides);
  });
});
