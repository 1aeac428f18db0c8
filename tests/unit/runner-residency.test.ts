// Runner memory does not grow with depth (issue 18): finished layers live in the work folder and
// are read back on demand, so the live tensors at the start of every layer after the first are
// the same count and bytes on an 8-layer model as on a 2-layer one; calibration activations above
// the budget go through disk with bit-identical results, also across a cancel + resume (one step, and
// inside the second of two dense-calibration steps, which reads and pins the layers the first
// persisted); a pinned layer and whatever `get` returns stay valid under a resident limit of 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src-main/engine/errors';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { moeViewTensors } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { activationBudgetBytes } from '../../src-main/engine/pipeline/activation-spill';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, type RunOptions, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { forwardLogits } from '../support/forward-logits';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-residency-'));
const models: Record<string, LoadedModel> = {};
const rng = xoshiro128ss(5);
const calibration = Array.from({ length: 6 }, () => Array.from({ length: 20 }, () => rng.int(256)));
// one calibration batch: 2 sequences × 20 tokens × hidden 64 × f32
const BATCH_BYTES = 2 * 20 * 64 * 4;

const config = (method: string, ratio: number) =>
  parsePipelineConfig({
    version: 1,
    name: `${method}-${ratio}`,
    model: 'generated',
    calibration: { samples: 6, seqLen: 20, batch: 2 },
    target: { ratio },
    steps: [{ method, params: {} }],
  });

// two steps, both §10.6 'dense' calibration: the second reads (and pins) the layers the first persisted
const twoSteps = () =>
  parsePipelineConfig({
    version: 2,
    name: 'wanda-gptq',
    model: 'generated',
    calibration: { samples: 6, seqLen: 20, batch: 2 },
    steps: [
      { method: 'wanda', params: { sparsity: 0.5, pattern: 'unstructured' } },
      { method: 'gptq', params: { bits: 4, groupSize: 32 } },
    ],
  });

const live = (ov: LayerOverride | undefined) => [...moeViewTensors(ov!.moe!)].every((t) => !t.isDisposed);

const logits = (m: LoadedModel, overrides: Map<number, LayerOverride>) =>
  forwardLogits(m, overrides, calibration.slice(0, 2));

/** every finished layer file of a work folder, name → bytes */
function layerFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const steps = path.join(dir, 'steps');
  for (const s of fs.readdirSync(steps))
    for (const f of fs.readdirSync(path.join(steps, s)))
      if (f.endsWith('.safetensors')) out.set(`${s}/${f}`, fs.readFileSync(path.join(steps, s, f)));
  return out;
}

/** live tensors (count, bytes; beyond those before the run) when each layer's calibration starts: the previous layers are finished */
async function liveAtLayerStart(m: LoadedModel, workDir: string, extra: Partial<RunOptions> = {}, step = 0) {
  const at: { tensors: number; bytes: number }[] = [];
  const base = tf.memory();
  const r = await runPipeline({
    model: m,
    config: config('svd-llm', 0.4),
    calibration,
    workDir,
    ...extra,
    onProgress: (p) => {
      if (p.step === step && p.phase === 'calibrate' && p.layer !== null && at[p.layer] === undefined) {
        const mem = tf.memory();
        at[p.layer] = { tensors: mem.numTensors - base.numTensors, bytes: mem.numBytes - base.numBytes };
      }
    },
  });
  return { r, at };
}

beforeAll(async () => {
  await initBackend();
  for (const layers of [2, 8]) {
    writeTinyCheckpoint(path.join(root, `l${layers}`), { arch: 'mixtral', layers, seed: 11 });
    models[layers] = openModel(path.join(root, `l${layers}`));
  }
});

afterAll(() => {
  for (const m of Object.values(models)) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('runner residency', () => {
  it('live tensors at the start of each layer are constant after the first, and the same for 2 and 8 layers', async () => {
    const before = tf.memory().numTensors;
    const deep = await liveAtLayerStart(models[8]!, path.join(root, 'w8'));
    const shallow = await liveAtLayerStart(models[2]!, path.join(root, 'w2'));
    expect(deep.at).toHaveLength(8);
    for (let l = 2; l < 8; l++) expect(deep.at[l]).toEqual(deep.at[1]);
    // (bytes differ: the whole-model ratio gives the two depths different ranks)
    expect(shallow.at[1]!.tensors).toBe(deep.at[1]!.tensors);
    // only the last layer stays in memory when the run returns; the rest is read back on demand
    expect(deep.r.overrides.size).toBe(8);
    expect(deep.r.overrides.residentCount).toBeLessThanOrEqual(1);
    expect(deep.r.overrides.reads).toBe(0);
    const lg = await logits(models[8]!, deep.r.overrides);
    expect(deep.r.overrides.reads).toBe(7);
    expect(lg.every(Number.isFinite)).toBe(true);
    // an override read back keeps the factors the layer was compressed to
    const v = deep.r.overrides.get(3)!.moe!;
    expect(v.experts[0]!.gate.kind).toBe('factored');
    disposeOverrides(deep.r.overrides);
    disposeOverrides(shallow.r.overrides);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a streaming reader with residentLimit 1 keeps one persisted layer in memory and gets the same logits', async () => {
    const r = await runPipeline({
      model: models[8]!,
      config: config('svd', 0.3),
      calibration,
      workDir: path.join(root, 'w-stream'),
    });
    const all = await logits(models[8]!, r.overrides);
    expect(r.overrides.residentCount).toBe(8);
    r.overrides.release();
    r.overrides.residentLimit = 1;
    const streamed = await logits(models[8]!, r.overrides);
    expect(r.overrides.residentCount).toBe(1);
    expect(streamed).toEqual(all);
    disposeOverrides(r.overrides);
  });

  it('a pinned layer stays valid, and so does every layer get returns, while a limit-1 reader walks the model', async () => {
    const before = tf.memory().numTensors;
    const r = await runPipeline({
      model: models[8]!,
      config: config('svd', 0.3),
      calibration,
      workDir: path.join(root, 'w-pin'),
    });
    const st = r.overrides;
    st.release();
    st.residentLimit = 1;
    const pinned = st.get(3);
    st.pin(3);
    for (let l = 0; l < 8; l++) {
      expect(live(st.get(l))).toBe(true);
      // the pinned layer plus the one just read
      expect(st.residentCount).toBeLessThanOrEqual(2);
    }
    expect(live(pinned)).toBe(true);
    expect(st.get(3)).toBe(pinned);
    st.unpin(3);
    st.get(5);
    expect(st.residentCount).toBe(1);
    expect(live(pinned)).toBe(false);
    // every layer was read from disk once per residency: 3, then 0..7 except 3, then 5 again
    expect(st.reads).toBe(1 + 7 + 1);
    disposeOverrides(st);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('two dense-calibration steps: live tensors constant across the second step, cancel + resume inside it bit-identical with spilled activations', async () => {
    const m = models[8]!;
    const before = tf.memory().numTensors;
    const full = await liveAtLayerStart(m, path.join(root, 'ws-full'), { config: twoSteps() }, 1);
    expect(full.at).toHaveLength(8);
    for (let l = 2; l < 8; l++) expect(full.at[l]).toEqual(full.at[1]);
    const held = tf.memory().numTensors;
    const dir = path.join(root, 'ws-resume');
    const ac = new AbortController();
    await expect(
      runPipeline({
        model: m,
        config: twoSteps(),
        calibration,
        workDir: dir,
        activationBudgetBytes: BATCH_BYTES,
        signal: ac.signal,
        onLayer: (s, l) => {
          if (s === 1 && l === 4) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    // a cancelled run frees what it held
    expect(tf.memory().numTensors).toBe(held);
    const resumed = await runPipeline({
      model: m,
      config: twoSteps(),
      calibration,
      workDir: dir,
      resume: true,
      activationBudgetBytes: BATCH_BYTES,
    });
    // dense calibration propagated layer 4 before compressing it, so the cancel came after it was
    // persisted; resuming propagates layers 0..4 through their wanda state
    expect(resumed.resumedAfter).toEqual({ step: 1, layer: 4 });
    expect(resumed.spilledBatches).toBe(2);
    expect(layerFiles(dir)).toEqual(layerFiles(path.join(root, 'ws-full')));
    expect(await logits(m, resumed.overrides)).toEqual(await logits(m, full.r.overrides));
    disposeOverrides(full.r.overrides);
    disposeOverrides(resumed.overrides);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('activations spilled to disk (all or some batches) give bit-identical layers and logits', async () => {
    const m = models[8]!;
    const mem = await runPipeline({
      model: m,
      config: config('svd-llm', 0.4),
      calibration,
      workDir: path.join(root, 'sp-mem'),
    });
    expect(mem.spilledBatches).toBe(0);
    const want = layerFiles(path.join(root, 'sp-mem'));
    const wantLogits = await logits(m, mem.overrides);
    for (const [name, budget, spilled] of [
      ['sp-all', 0, 3],
      ['sp-some', BATCH_BYTES, 2],
    ] as const) {
      const dir = path.join(root, name);
      const r = await runPipeline({
        model: m,
        config: config('svd-llm', 0.4),
        calibration,
        workDir: dir,
        activationBudgetBytes: budget,
      });
      expect(r.spilledBatches).toBe(spilled);
      expect(layerFiles(dir)).toEqual(want);
      expect(await logits(m, r.overrides)).toEqual(wantLogits);
      // the scratch files are gone when the run ends
      expect(fs.existsSync(path.join(dir, 'activations'))).toBe(false);
      disposeOverrides(r.overrides);
    }
    disposeOverrides(mem.overrides);
  });

  it('cancel + resume with spilled activations reproduces the uninterrupted in-memory run', async () => {
    const m = models[8]!;
    const cfg = config('svd-llm', 0.4);
    const full = await runPipeline({
      model: m,
      config: cfg,
      calibration,
      workDir: path.join(root, 'rs-full'),
    });
    const dir = path.join(root, 'rs-spill');
    const ac = new AbortController();
    await expect(
      runPipeline({
        model: m,
        config: cfg,
        calibration,
        workDir: dir,
        activationBudgetBytes: 0,
        signal: ac.signal,
        onLayer: (_s, l) => {
          if (l === 4) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    const resumed = await runPipeline({
      model: m,
      config: cfg,
      calibration,
      workDir: dir,
      resume: true,
      activationBudgetBytes: 0,
    });
    expect(resumed.resumedAfter).toEqual({ step: 0, layer: 3 });
    expect(resumed.paramsAfter).toBe(full.paramsAfter);
    expect(layerFiles(dir)).toEqual(layerFiles(path.join(root, 'rs-full')));
    expect(await logits(m, resumed.overrides)).toEqual(await logits(m, full.overrides));
    disposeOverrides(full.overrides);
    disposeOverrides(resumed.overrides);
  });

  it('the activation budget comes from MOE_ACTIVATION_BUDGET_MB, refused when not a size', () => {
    expect(activationBudgetBytes({ MOE_ACTIVATION_BUDGET_MB: '3' })).toBe(3 * 2 ** 20);
    expect(activationBudgetBytes({})).toBe(Math.floor(os.totalmem() / 4));
    expect(() => activationBudgetBytes({ MOE_ACTIVATION_BUDGET_MB: 'lots' })).toThrow(
      /MOE_ACTIVATION_BUDGET_MB/,
    );
  });
});
