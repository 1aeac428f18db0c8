// Expert Trimming (Unified §4.4 Layer Drop, §4.5 Block Drop) on generated checkpoints, driven step
// by step without the runner. The similarities are recomputed here from raw executor hooks in f64.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { blockDropDeclaration } from '../../src-main/engine/methods/block-drop.params';
import { layerDropDeclaration } from '../../src-main/engine/methods/layer-drop.params';
import type { AnyMethodDeclaration } from '../../src-main/engine/methods/method';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { solveStep } from '../../src-main/engine/pipeline/budget';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { stateFromSpec, stateParams, stateWithOverrides } from '../../src-main/engine/pipeline/plan-state';
import { runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend } from '../../src-main/engine/tensor/backend';
import { batchesOf, driveStep } from '../support/drive-step';
import { type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'methods-trim-'));
const models = new Map<TinyArch, LoadedModel>();
const rng = xoshiro128ss(33);
const calibration = Array.from({ length: 6 }, () => Array.from({ length: 20 }, () => rng.int(256)));
const m = (a: TinyArch) => models.get(a)!;

beforeAll(async () => {
  await initBackend();
  const make = (arch: TinyArch, layers: number, seed: number) => {
    writeTinyCheckpoint(path.join(root, arch), { arch, layers, seed });
    models.set(arch, openModel(path.join(root, arch)));
  };
  make('mixtral', 6, 8);
  make('qwen2_moe', 4, 9); // layer 1 dense
  make('deepseek', 4, 10); // layer 0 dense
});

afterAll(() => {
  for (const mo of models.values()) mo.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function cos(a: ArrayLike<number>, b: ArrayLike<number>, h: number): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (let o = 0; o < a.length; o += h) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let j = 0; j < h; j++) {
      ab += a[o + j]! * b[o + j]!;
      aa += a[o + j]! ** 2;
      bb += b[o + j]! ** 2;
    }
    sum += ab / Math.sqrt(aa * bb);
    n++;
  }
  return { sum, n };
}

interface Trace {
  /** h_i per block i and batch (h_L = the last output) */
  hidden: Float64Array[][];
  /** residual after attention per block and batch */
  afterAttention: Float64Array[][];
  output: Float64Array[][];
}

/** Every block's input, residual after attention and output on the unmodified model (f64 copies). */
async function trace(model: LoadedModel): Promise<Trace> {
  const exec = new StreamingExecutor(model);
  const L = model.spec.layers;
  const t: Trace = {
    hidden: Array.from({ length: L + 1 }, () => []),
    afterAttention: Array.from({ length: L }, () => []),
    output: Array.from({ length: L }, () => []),
  };
  for (const b of batchesOf(calibration, 3)) {
    let x = exec.embed(b);
    for (let l = 0; l < L; l++) {
      let input: Float32Array | null = null;
      const y = await exec.runLayer(l, x, {
        onLayerInput: (e) => {
          input = Float32Array.from(e.hidden.dataSync());
        },
        onAttentionOutput: (e) => {
          const a = e.output.dataSync();
          t.afterAttention[l]!.push(Float64Array.from(input!, (v, i) => v + a[i]!));
        },
        onLayerOutput: (e) => {
          t.output[l]!.push(Float64Array.from(e.hidden.dataSync()));
        },
      });
      t.hidden[l]!.push(Float64Array.from(input!));
      x.hidden.dispose();
      x = { ...x, hidden: y };
    }
    t.hidden[L]!.push(Float64Array.from(x.hidden.dataSync()));
    x.hidden.dispose();
  }
  exec.dispose();
  return t;
}

function meanCos(as: Float64Array[], bs: Float64Array[], h: number): number {
  let s = 0;
  let n = 0;
  as.forEach((a, i) => {
    const c = cos(a, bs[i]!, h);
    s += c.sum;
    n += c.n;
  });
  return s / n;
}

/** the `count` keys with the highest value, with a margin at the cut */
function highest(sim: Map<number, number>, count: number): number[] {
  const order = [...sim].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  if (count > 0 && count < order.length)
    expect(order[count - 1]![1] - order[count]![1]).toBeGreaterThan(1e-6);
  return order
    .slice(0, count)
    .map(([l]) => l)
    .sort((a, b) => a - b);
}

async function logits(
  model: LoadedModel,
  overrides: ReadonlyMap<number, LayerOverride>,
): Promise<Float32Array> {
  const exec = new StreamingExecutor(model, { overrides });
  const x = await exec.forward(exec.embed(calibration.slice(0, 2)));
  const parts: number[] = [];
  await exec.logitsChunks(x.hidden, (_r, lg) => {
    for (const v of lg.dataSync()) parts.push(v);
  });
  x.hidden.dispose();
  exec.dispose();
  return Float32Array.from(parts);
}

function expectExactAccounting(
  decl: AnyMethodDeclaration,
  r: Awaited<ReturnType<typeof driveStep>>,
  k: number,
) {
  const planned = decl.knob.apply(r.params, r.before, k);
  expect(stateParams(stateWithOverrides(r.before, r.overrides))).toBe(stateParams(planned));
}

describe('layer-drop (§4.4)', () => {
  it('drops the MoE sub-layers with the highest cos(residual after attention, layer output)', async () => {
    const model = m('mixtral');
    const h = model.spec.hidden;
    const t = await trace(model);
    const sim = new Map(t.output.map((o, l) => [l, meanCos(t.afterAttention[l]!, o, h)]));
    const r = await driveStep(model, layerDropDeclaration, { count: 2 }, calibration);
    const d = r.decision as { layers: number[]; similarity: Record<string, number> };
    for (const [l, s] of sim) expect(d.similarity[String(l)]).toBeCloseTo(s, 6);
    const want = highest(sim, 2);
    expect(d.layers).toEqual(want);
    expect([...r.overrides]).toEqual(want.map((l) => [l, { skipFfn: true }]));
    expect(r.records.get(want[0]!)).toMatchObject({ method: 'layer-drop', dropped: 'ffn' });
    expectExactAccounting(layerDropDeclaration, r, 2);
    expect((await logits(model, r.overrides)).every(Number.isFinite)).toBe(true);
  });

  it('dense layers are never dropped; count 0 changes nothing; more than the MoE layers is refused', async () => {
    const model = m('qwen2_moe');
    const r = await driveStep(model, layerDropDeclaration, { count: 3 }, calibration);
    expect((r.decision as { layers: number[] }).layers).toEqual([0, 2, 3]);
    expectExactAccounting(layerDropDeclaration, r, 3);
    const none = await driveStep(model, layerDropDeclaration, { count: 0 }, calibration);
    expect(none.overrides.size).toBe(0);
    expect(none.summaries.size).toBe(4);
    expect([...none.summaries.values()].every((s) => s === null)).toBe(true);
    const s = stateFromSpec(model.spec);
    expect(() =>
      solveStep(
        { decl: layerDropDeclaration, params: { count: 4 } },
        { kind: 'fixed' },
        s,
        stateParams(s),
        0,
        null,
      ),
    ).toThrow(/layersDropped 4 is outside .*\[0, 3\]/);
  });
});

describe('block-drop (§4.5)', () => {
  it('discrete: the blocks with the highest cos(h_i, h_{i+1})', async () => {
    const model = m('mixtral');
    const h = model.spec.hidden;
    const t = await trace(model);
    const sim = new Map(t.output.map((_o, l) => [l, meanCos(t.hidden[l]!, t.hidden[l + 1]!, h)]));
    const r = await driveStep(model, blockDropDeclaration, { count: 2 }, calibration);
    const d = r.decision as { layers: number[]; similarity: Record<string, number> };
    for (const [l, s] of sim) expect(d.similarity[String(l)]).toBeCloseTo(s, 6);
    const want = highest(sim, 2);
    expect(d.layers).toEqual(want);
    expect([...r.overrides]).toEqual(want.map((l) => [l, { skipBlock: true }]));
    expectExactAccounting(blockDropDeclaration, r, 2);
    expect((await logits(model, r.overrides)).every(Number.isFinite)).toBe(true);
  });

  it.each([1, 2, 3])(
    'consecutive n=%i: the run i..i+n−1 maximising cos(h_i, h_{i+n}) (input of the first vs output of the last)',
    async (n) => {
      const model = m('mixtral');
      const h = model.spec.hidden;
      const L = model.spec.layers;
      const t = await trace(model);
      const span = new Map(
        Array.from(
          { length: L - n + 1 },
          (_, i) => [i, meanCos(t.hidden[i]!, t.hidden[i + n]!, h)] as [number, number],
        ),
      );
      const r = await driveStep(model, blockDropDeclaration, { count: n, mode: 'consecutive' }, calibration);
      const d = r.decision as { layers: number[]; spanSimilarity: Record<string, number> };
      expect(Object.keys(d.spanSimilarity).map(Number)).toEqual([...span.keys()]);
      for (const [i, s] of span) expect(d.spanSimilarity[String(i)]).toBeCloseTo(s, 6);
      const [start] = highest(span, 1);
      expect(d.layers).toEqual(Array.from({ length: n }, (_, j) => start! + j));
      expect([...r.overrides.keys()]).toEqual(d.layers);
    },
  );

  it('DeepSeek: a dense block may go too; at least one block stays', async () => {
    const model = m('deepseek');
    const r = await driveStep(model, blockDropDeclaration, { count: 3 }, calibration);
    expect((r.decision as { layers: number[] }).layers).toHaveLength(3);
    expect(r.overrides.size).toBe(3);
    const s = stateFromSpec(model.spec);
    try {
      solveStep(
        { decl: blockDropDeclaration, params: { count: 4, mode: 'discrete' } },
        { kind: 'fixed' },
        s,
        stateParams(s),
        0,
        null,
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).message).toMatch(/blocksDropped 4 is outside .*\[0, 3\]/);
    }
  });

  it('budget-driven: the solver picks blocksDropped from the state; the run drops that many', async () => {
    const model = m('mixtral');
    const s = stateFromSpec(model.spec);
    const T = stateParams(s);
    const params = blockDropDeclaration.params.parse({ ratio: 0.3 });
    const p = solveStep({ decl: blockDropDeclaration, params }, { kind: 'ratio', ratio: 0.3 }, s, T, 0, null);
    const k = p.knobs.blocksDropped!;
    expect(k).toBeGreaterThan(0);
    const r = await driveStep(model, blockDropDeclaration, { ratio: 0.3 }, calibration, { knobs: p.knobs });
    expect(r.overrides.size).toBe(k);
    expect(stateParams(stateWithOverrides(r.before, r.overrides))).toBe(p.paramsAfter);
  });
});

describe('through runPipeline (runner v2)', () => {
  const cfg = (
    steps: { method: string; params?: Record<string, unknown> }[],
    target?: Record<string, unknown>,
  ) =>
    parsePipelineConfig({
      version: 2,
      name: 'trim',
      model: 'generated',
      calibration: { samples: 6, seqLen: 20, batch: 3 },
      ...(target ? { target } : {}),
      steps,
    });

  it('layer-drop: the run drops what the hand-driven step drops', async () => {
    const model = m('mixtral');
    const r = await runPipeline({
      model,
      config: cfg([{ method: 'layer-drop', params: { count: 2 } }]),
      calibration,
      workDir: path.join(root, 'run-layer-drop'),
    });
    const d = await driveStep(model, layerDropDeclaration, { count: 2 }, calibration);
    expect(r.plan.steps[0]!.decision).toEqual(d.decision);
    expect([...r.overrides]).toEqual([...d.overrides]);
    expect(r.paramsAfter).toBe(stateParams(stateWithOverrides(d.before, d.overrides)));
  });

  it('expert-prune then block-drop (consecutive, budget): the block plan pass sees the pruned model', async () => {
    const model = m('mixtral');
    const r = await runPipeline({
      model,
      config: cfg(
        [
          { method: 'expert-prune', params: { expertsRemoved: 6 } },
          { method: 'block-drop', params: { mode: 'consecutive' } },
        ],
        { ratio: 0.4 },
      ),
      calibration,
      workDir: path.join(root, 'run-block-drop'),
    });
    const n = r.plan.steps[1]!.knobs.blocksDropped!;
    expect(n).toBeGreaterThan(0);
    const d = r.plan.steps[1]!.decision as { layers: number[] };
    expect(d.layers).toHaveLength(n);
    expect(d.layers.every((l, i) => i === 0 || l === d.layers[i - 1]! + 1)).toBe(true);
    for (const l of d.layers) expect(r.overrides.get(l)).toEqual({ skipBlock: true });
    expect(r.offTarget).toBeNull();
    expect((await logits(model, r.overrides)).every(Number.isFinite)).toBe(true);
    for (const o of r.overrides.values()) if (o.moe) disposeMoeView(o.moe);
  });
});
