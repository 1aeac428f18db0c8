// Export and load of compressed layouts on tiny checkpoints of all six architectures: overrides built
// by hand (experts sliced with their router rows, merged, factored with a shared factor, base+delta,
// a dropped MoE sub-layer, a dropped block) are exported in the workbench format (v2) and as plain HF
// checkpoints, reopened with openModel, and must give the in-memory model's logits (bit-identical
// for the workbench format in F32, ~1e-5 after dense reconstruction); inspect's total equals the plan
// state's parameter count; layouts HF cannot express fall back with a reason; v1 blocks still load.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { exportModel } from '../../src-main/engine/export/export-model';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { summarize } from '../../src-main/engine/model/inspect';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { sourceLayerOverride } from '../../src-main/engine/model/source-layer';
import { globalTensors, layerTensors } from '../../src-main/engine/model/tensor-layout';
import type {
  ExpertWeights,
  LayerOverride,
  Linear,
  MoeLayerView,
  Tensor2D,
} from '../../src-main/engine/model/types';
import { stateFromSpec, stateParams, stateWithOverrides } from '../../src-main/engine/pipeline/plan-state';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { TINY_ARCHS, type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const REF = path.resolve('tests/reference/hf_moe_reference.py');
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Logits of a plain HF folder from the numpy port of the HF modeling code (null without numpy). */
function referenceLogits(dir: string): number[] | null {
  if (!hasNumpy) return null;
  const idsFile = path.join(dir, 'ids.json');
  const outFile = path.join(dir, 'ref.json');
  fs.writeFileSync(idsFile, JSON.stringify({ ids: IDS }));
  execFileSync('python3', [REF, 'logits', '--model', dir, '--ids', idsFile, '--out', outFile]);
  return (JSON.parse(fs.readFileSync(outFile, 'utf8')) as { logits: number[] }).logits;
}

const IDS = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % 256);

const EXPERTS_KEY: Record<TinyArch, string> = {
  mixtral: 'num_local_experts',
  phimoe: 'num_local_experts',
  qwen2_moe: 'num_experts',
  qwen3_moe: 'num_experts',
  olmoe: 'num_experts',
  deepseek: 'n_routed_experts',
};

let root: string;
const opened: LoadedModel[] = [];
const owned: tf.Tensor[] = [];
const views: MoeLayerView[] = [];

function open(dir: string): LoadedModel {
  const m = openModel(dir);
  opened.push(m);
  return m;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const keep = <T extends tf.Tensor>(t: T): T => {
  owned.push(t);
  return t;
};

function rnd(shape: [number, number], seed: number): Tensor2D {
  return keep(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), 0.1) as Tensor2D);
}

function dense(L: Linear): Tensor2D {
  if (L.kind !== 'dense') throw new Error('dense expected');
  return L.w;
}

/** The checkpoint's view of layer l (freed after the suite). */
function view(model: LoadedModel, l: number): MoeLayerView {
  const v = readMoeView(model, l);
  views.push(v);
  return v;
}

/** Experts `ids` of a view, their router rows sliced, optionally another top-k. */
function slice(v: MoeLayerView, ids: number[], topK?: number): MoeLayerView {
  const idx = tf.tensor1d(ids, 'int32');
  const router = keep(tf.gather(v.router, idx) as Tensor2D);
  idx.dispose();
  return {
    layer: v.layer,
    router,
    experts: ids.map((e) => v.experts[e]!),
    ...(v.shared ? { shared: v.shared } : {}),
    routing: topK !== undefined && v.routing.kind === 'softmax-topk' ? { ...v.routing, topK } : v.routing,
    sources: ids.map((e) => [e]),
  };
}

/** A rank-r factorisation (random A, the given or a random B) of each projection of an expert. */
function factored(ex: ExpertWeights, r: number, seed: number, sharedGateB?: Tensor2D): ExpertWeights {
  const f = (L: Linear, s: number, B?: Tensor2D): Linear => {
    const [out, inp] = dense(L).shape;
    return { kind: 'factored', A: rnd([out, r], seed + s), B: B ?? rnd([r, inp], seed + s + 100) };
  };
  return { gate: f(ex.gate, 1, sharedGateB), up: f(ex.up, 2), down: f(ex.down, 3) };
}

/**
 * A mixed layer: expert 0 factored, experts 1+2 merged (mean), the last expert as base + A·B, its
 * gate B shared with expert 0's; router rows follow (row 1 = mean of rows 1 and 2). Shared expert
 * (if any): down projection factored.
 */
function mixedView(v: MoeLayerView): MoeLayerView {
  const N = v.experts.length;
  const I = dense(v.experts[0]!.gate).shape[0];
  const h = v.router.shape[1];
  const sharedB = rnd([4, h], 7);
  const mean = (a: Tensor2D, b: Tensor2D) => keep(tf.div(tf.add(a, b), 2) as Tensor2D);
  const e1 = v.experts[1]!;
  const e2 = v.experts[2]!;
  const merged: ExpertWeights = {
    gate: { kind: 'dense', w: mean(dense(e1.gate), dense(e2.gate)) },
    up: { kind: 'dense', w: mean(dense(e1.up), dense(e2.up)) },
    down: { kind: 'dense', w: mean(dense(e1.down), dense(e2.down)) },
  };
  const last = v.experts[N - 1]!;
  const delta: ExpertWeights = {
    gate: { kind: 'delta', base: dense(last.gate), A: rnd([I, 4], 31), B: sharedB },
    up: { kind: 'delta', base: dense(last.up), A: rnd([I, 2], 32), B: rnd([2, h], 33) },
    down: { kind: 'delta', base: dense(last.down), A: rnd([h, 2], 34), B: rnd([2, I], 35) },
  };
  const rows = [
    tf.slice(v.router, [0, 0], [1, h]),
    tf.div(tf.add(tf.slice(v.router, [1, 0], [1, h]), tf.slice(v.router, [2, 0], [1, h])), 2),
    tf.slice(v.router, [N - 1, 0], [1, h]),
  ];
  const router = keep(tf.concat(rows, 0) as Tensor2D);
  tf.dispose(rows);
  const out: MoeLayerView = {
    layer: v.layer,
    router,
    experts: [factored(v.experts[0]!, 4, 11, sharedB), merged, delta],
    routing: v.routing,
    sources: [[0], [1, 2], [N - 1]],
  };
  if (v.shared) {
    const [hh, Is] = dense(v.shared.down).shape;
    out.shared = {
      ...v.shared,
      down: { kind: 'factored', A: rnd([hh, 4], 41), B: rnd([4, Is], 42) },
    };
  }
  return out;
}

const paramsOf = (model: LoadedModel, overrides: ReadonlyMap<number, LayerOverride>) =>
  stateParams(stateWithOverrides(stateFromSpec(model.spec), overrides));

const config = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));

function setup(
  name: string,
  arch: TinyArch,
  layers: number,
  overrides?: Record<string, unknown>,
): LoadedModel {
  const dir = path.join(root, name);
  writeTinyCheckpoint(dir, { arch, layers, seed: 5, ...(overrides ? { overrides } : {}) });
  return open(dir);
}

beforeAll(async () => {
  await initBackend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-wb-'));
});

afterAll(() => {
  for (const v of views) disposeMoeView(v);
  tf.dispose(owned);
  for (const m of opened) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('mixed layouts: workbench format round trip, dense falls back', () => {
  for (const arch of TINY_ARCHS) {
    it(arch, async () => {
      const model = setup(`mixed-${arch}`, arch, 4);
      const { spec } = model;
      const moe = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
      const first = moe[0]!;
      const overrides = new Map<number, LayerOverride>([[first, { moe: mixedView(view(model, first)) }]]);
      const rest = [...Array(spec.layers).keys()].filter((l) => l !== first);
      overrides.set(rest[0]!, { skipFfn: true });
      overrides.set(rest[1]!, { skipBlock: true });
      const plainLayer = rest[2]!;

      const want = await sequenceLogits(model, IDS, { overrides });
      const wbDir = path.join(root, `mixed-${arch}-wb`);
      const wb = exportModel(model, overrides, wbDir, { format: 'factored', method: 'hand' });
      expect(wb.format).toBe('factored');
      expect(wb.fallbackReason).toBeUndefined();
      expect(wb.params).toBe(paramsOf(model, overrides));
      const block = config(wbDir).moe_workbench;
      expect(block.format).toBe('workbench');
      expect(block.version).toBe(2);
      expect(block.method).toBe('hand');
      expect(Object.keys(block.layers).map(Number).sort()).toEqual([...overrides.keys()].sort());
      expect(block.layers[String(rest[0])]).toEqual({ drop: 'ffn' });
      expect(block.layers[String(rest[1])]).toEqual({ drop: 'block' });
      const m = block.layers[String(first)].view;
      expect(m.experts).toHaveLength(3);
      expect(m.sources).toEqual([[0], [1, 2], [spec.experts - 1]]);
      // the shared gate factor is stored once, under expert 0's name
      expect(m.experts[2].gate.B).toBe(m.experts[0].gate.B);

      const back = open(wbDir);
      expect(back.stored?.layers.size).toBe(3);
      const got = await sequenceLogits(back, IDS);
      expect(maxAbs(got, want)).toBe(0);
      const ins = summarize(back);
      expect(ins.params.total).toBe(paramsOf(model, overrides));
      expect(ins.workbench).toEqual({ version: 2, method: 'hand' });
      const pl = ins.perLayer;
      expect(pl[first]).toMatchObject({ state: 'compressed', experts: 3, merged: 1, form: 'mixed', rank: 4 });
      expect(pl[first]!.expertsDropped).toBe(spec.experts - 3);
      expect(pl[first]!.droppedIds).toEqual(
        [...Array(spec.experts).keys()].filter((e) => ![0, 1, 2, spec.experts - 1].includes(e)),
      );
      expect(pl[rest[0]!]!.state).toBe('ffn-dropped');
      expect(pl[rest[1]!]!.state).toBe('block-dropped');
      expect(pl[plainLayer]!.state).toBe('plain');
      expect(pl.reduce((a, l) => a + l.params, 0)).toBeLessThan(ins.params.total); // + embeddings, head

      // the executor frees the stored views it opens
      const exec = new StreamingExecutor(back);
      const x = exec.embed([IDS]);
      (await exec.runLayer(first, x)).dispose();
      const before = tf.memory().numTensors;
      for (let l = 0; l < spec.layers; l++) (await exec.runLayer(l, x)).dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.hidden.dispose();
      exec.dispose();

      // the stored state comes back as overrides with the same accounting
      const src = new Map<number, LayerOverride>();
      for (let l = 0; l < spec.layers; l++) {
        const o = sourceLayerOverride(back, l);
        if (o) src.set(l, o);
      }
      expect(paramsOf(back, src)).toBe(ins.params.total);
      for (const o of src.values()) if (o.moe) disposeMoeView(o.moe);

      // a Layer Drop has no HF form: dense falls back to the workbench format, same bytes
      const dDir = path.join(root, `mixed-${arch}-dense`);
      const d = exportModel(model, overrides, dDir, { format: 'dense' });
      expect(d.format).toBe('factored');
      expect(d.fallbackReason).toMatch(/Layer Drop/);
      const { method: _method, ...unnamed } = block;
      expect(config(dDir).moe_workbench).toEqual(unnamed);
      expect(
        fs
          .readFileSync(path.join(dDir, 'model.safetensors'))
          .equals(fs.readFileSync(path.join(wbDir, 'model.safetensors'))),
      ).toBe(true);

      // re-exporting the reopened checkpoint with no overrides keeps its stored layout
      const reDir = path.join(root, `mixed-${arch}-re`);
      const re = exportModel(back, new Map(), reDir, { format: 'factored' });
      expect(re.params).toBe(wb.params);
      expect(config(reDir).moe_workbench).toEqual(block);
      expect(maxAbs(await sequenceLogits(open(reDir), IDS), want)).toBe(0);
    });
  }
});

/** Every MoE layer keeps N−1 experts (a different one dropped per layer), top-k lowered where the routing allows; layer 1 block-dropped. */
function uniform(model: LoadedModel, factor: boolean): Map<number, LayerOverride> {
  const { spec } = model;
  const overrides = new Map<number, LayerOverride>();
  const topK =
    spec.routing.kind === 'softmax-topk' && spec.routing.topK > 1 ? spec.routing.topK - 1 : undefined;
  spec.layerKinds.forEach((k, l) => {
    if (k !== 'moe' || l === 1) return;
    const ids = [...Array(spec.experts).keys()].filter((e) => e !== l % spec.experts);
    const v = slice(view(model, l), ids, topK);
    if (factor) v.experts[0] = factored(v.experts[0]!, 4, 50 + l);
    overrides.set(l, { moe: v });
  });
  overrides.set(1, { skipBlock: true });
  return overrides;
}

const variants: { name: string; arch: TinyArch; overrides?: Record<string, unknown> }[] = [
  ...TINY_ARCHS.map((arch) => ({ name: arch, arch })),
  // Qwen2 even-layer sliding rule: after dropping layer 1, new layer 1 (old 2) must stay sliding
  {
    name: 'qwen2_moe+sliding',
    arch: 'qwen2_moe',
    overrides: { use_sliding_window: true, sliding_window: 8 },
  },
];

describe('uniform pruning + Block Drop: plain HF export', () => {
  for (const v of variants) {
    it(v.name, async () => {
      const model = setup(`uniform-${v.name}`, v.arch, 3, v.overrides);
      const { spec } = model;
      const keptKinds = [0, 2].map((l) => spec.layerKinds[l]);

      // pruned only: the plain checkpoint stores exactly the plan state's parameters
      const pruned = uniform(model, false);
      const want = await sequenceLogits(model, IDS, { overrides: pruned });
      const dDir = path.join(root, `uniform-${v.name}-dense`);
      const d = exportModel(model, pruned, dDir, { format: 'dense' });
      expect(d.fallbackReason).toBeUndefined();
      expect(d.format).toBe('dense');
      const c = config(dDir);
      expect(c.moe_workbench).toBeUndefined();
      expect(c.num_hidden_layers).toBe(2);
      expect(c[EXPERTS_KEY[v.arch]]).toBe(spec.experts - 1);
      const topK = spec.routing.kind === 'softmax-topk' ? spec.routing.topK - 1 : 2;
      expect(c.num_experts_per_tok).toBe(topK);
      const back = open(dDir);
      expect(back.stored).toBeUndefined();
      expect(back.spec.layers).toBe(2);
      expect(back.spec.layerKinds).toEqual(keptKinds);
      expect(back.spec.experts).toBe(spec.experts - 1);
      expect(back.spec.slidingWindow).toEqual([0, 2].map((l) => spec.slidingWindow[l]));
      expect(back.checkpoint.names().some((n) => n.startsWith('model.layers.2.'))).toBe(false);
      expect(maxAbs(await sequenceLogits(back, IDS), want)).toBeLessThan(1e-5);
      // HF's own reading of the rewritten config (numpy port of the modeling code) agrees
      const ref = referenceLogits(dDir);
      if (ref) expect(maxAbs(ref, want)).toBeLessThan(1e-3);
      expect(summarize(back).params.total).toBe(paramsOf(model, pruned));
      expect(summarize(back).params.total).toBe(stateParams(stateFromSpec(back.spec)));
      if (v.arch === 'qwen2_moe') expect(c.mlp_only_layers).toEqual([]);
      if (v.arch === 'deepseek') expect([c.first_k_dense_replace, c.moe_layer_freq]).toEqual([1, 1]);
      if (v.overrides?.use_sliding_window)
        expect(c.layer_types).toEqual(['sliding_attention', 'sliding_attention']);

      // with factored experts: the workbench format is exact, the plain export rebuilds W = A·B
      const fac = uniform(model, true);
      const wantF = await sequenceLogits(model, IDS, { overrides: fac });
      const wDir = path.join(root, `uniform-${v.name}-wb`);
      const w = exportModel(model, fac, wDir, { format: 'factored' });
      expect(w.params).toBe(paramsOf(model, fac));
      const wb = open(wDir);
      expect(maxAbs(await sequenceLogits(wb, IDS), wantF)).toBe(0);
      expect(summarize(wb).params.total).toBe(paramsOf(model, fac));
      const fDir = path.join(root, `uniform-${v.name}-fdense`);
      const f = exportModel(model, fac, fDir, { format: 'dense' });
      expect(f.format).toBe('dense');
      const fb = open(fDir);
      expect(maxAbs(await sequenceLogits(fb, IDS), wantF)).toBeLessThan(1e-5);
      expect(summarize(fb).params.total).toBe(stateParams(stateFromSpec(fb.spec)));
      // the stored workbench layout converts to the same plain checkpoint (factors read from disk)
      const rDir = path.join(root, `uniform-${v.name}-redense`);
      const r = exportModel(wb, new Map(), rDir, { format: 'dense' });
      expect(r.format).toBe('dense');
      const rb = open(rDir);
      expect(rb.checkpoint.names().sort()).toEqual(fb.checkpoint.names().sort());
      let worst = 0;
      for (const n of fb.checkpoint.names())
        worst = Math.max(worst, maxAbs(rb.checkpoint.readF32(n), fb.checkpoint.readF32(n)));
      expect(worst).toBeLessThan(1e-6);
      expect(config(rDir)).toEqual(config(fDir));
    });
  }
});

describe('layouts HF cannot express fall back with a reason', () => {
  it('different expert counts per layer', async () => {
    const model = setup('counts', 'mixtral', 2);
    const overrides = new Map<number, LayerOverride>([
      [0, { moe: slice(view(model, 0), [0, 1, 2]) }],
      [1, { moe: slice(view(model, 1), [1, 3]) }],
    ]);
    const dir = path.join(root, 'counts-dense');
    const r = exportModel(model, overrides, dir, { format: 'dense' });
    expect(r.format).toBe('factored');
    expect(r.fallbackReason).toMatch(/different expert counts/);
    const back = open(dir);
    expect(maxAbs(await sequenceLogits(back, IDS), await sequenceLogits(model, IDS, { overrides }))).toBe(0);
    expect(summarize(back).params.total).toBe(paramsOf(model, overrides));
  });

  it('DeepSeek: a Block Drop leaving a layer pattern first_k_dense_replace / moe_layer_freq cannot say', async () => {
    // MoE every 2nd layer from 0: [moe, dense, moe, dense]; without layer 0: [dense, moe, dense]
    const model = setup('ds-freq', 'deepseek', 4, { first_k_dense_replace: 0, moe_layer_freq: 2 });
    expect(model.spec.layerKinds).toEqual(['moe', 'dense', 'moe', 'dense']);
    const overrides = new Map<number, LayerOverride>([[0, { skipBlock: true }]]);
    const dir = path.join(root, 'ds-freq-dense');
    const r = exportModel(model, overrides, dir, { format: 'dense' });
    expect(r.fallbackReason).toMatch(/DeepSeek/);
    expect(config(dir).moe_workbench.layers).toEqual({ 0: { drop: 'block' } });
    expect(
      maxAbs(await sequenceLogits(open(dir), IDS), await sequenceLogits(model, IDS, { overrides })),
    ).toBe(0);
    // dropping layer 1 instead leaves [moe, moe, dense]: not "first k dense" either
    const r2 = exportModel(model, new Map([[1, { skipBlock: true }]]), path.join(root, 'ds-freq-2'), {
      format: 'dense',
    });
    expect(r2.fallbackReason).toMatch(/DeepSeek/);
    // dropping layers 2 and 3 leaves [moe, dense]: first_k 0, freq 2 still says it
    const r3dir = path.join(root, 'ds-freq-3');
    const r3 = exportModel(
      model,
      new Map([
        [2, { skipBlock: true }],
        [3, { skipBlock: true }],
      ]),
      r3dir,
      { format: 'dense' },
    );
    expect(r3.fallbackReason).toBeUndefined();
    expect(open(r3dir).spec.layerKinds).toEqual(['moe', 'dense']);
  });
});

describe('tensor-name table', () => {
  it('names exactly the tensors an HF checkpoint of each architecture holds', () => {
    for (const arch of TINY_ARCHS) {
      const dir = path.join(root, `names-${arch}`);
      const { tensorNames } = writeTinyCheckpoint(dir, { arch, layers: 3, seed: 1 });
      const model = open(dir);
      const table = [...globalTensors(model.spec)];
      for (let l = 0; l < model.spec.layers; l++) table.push(...layerTensors(model.spec, l));
      expect(table.map((t) => t.name).sort(), arch).toEqual([...tensorNames].sort());
      for (const t of table) expect(model.checkpoint.info(t.name).shape, t.name).toEqual(t.shape);
    }
  });
});

describe('loading', () => {
  it('a version-1 factored block still loads', async () => {
    const model = setup('v1', 'qwen2_moe', 2);
    const v = view(model, 0);
    const sharedB = rnd([4, model.spec.hidden], 3);
    const fac: MoeLayerView = {
      ...v,
      experts: v.experts.map((e, i) => factored(e, 4, 60 + 10 * i, sharedB)),
    };
    const overrides = new Map<number, LayerOverride>([[0, { moe: fac }]]);
    const dir = path.join(root, 'v1-out');
    exportModel(model, overrides, dir, { format: 'factored', method: 'moe-svd' });
    const c = config(dir);
    const m = c.moe_workbench.layers['0'].view;
    c.moe_workbench = {
      format: 'factored',
      version: 1,
      method: 'moe-svd',
      layers: {
        0: {
          experts: Object.fromEntries(
            m.experts.map((e: Record<string, { A: string; B: string }>, i: number) => [
              String(i),
              { gate: e.gate, up: e.up, down: e.down },
            ]),
          ),
        },
      },
    };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
    const back = open(dir);
    expect(back.stored?.version).toBe(1);
    expect(maxAbs(await sequenceLogits(back, IDS), await sequenceLogits(model, IDS, { overrides }))).toBe(0);
    expect(summarize(back).params.total).toBe(paramsOf(model, overrides));
    // and re-exports as version 2
    const re = path.join(root, 'v1-re');
    exportModel(back, new Map(), re, { format: 'factored' });
    expect(config(re).moe_workbench).toMatchObject({ format: 'workbench', version: 2, method: 'moe-svd' });
  });

  it('bad blocks name config.json and the field', () => {
    const model = setup('bad', 'mixtral', 2);
    const overrides = new Map<number, LayerOverride>([
      [0, { moe: slice(view(model, 0), [0, 2, 3]) }],
      [1, { skipFfn: true }],
    ]);
    const good = path.join(root, 'bad-good');
    exportModel(model, overrides, good, { format: 'factored' });
    const block = config(good).moe_workbench;
    const cases: [string, (b: Record<string, unknown>) => unknown, string][] = [
      ['version', (b) => ({ ...b, version: 3 }), 'moe_workbench'],
      [
        'layer key',
        (b) => ({ ...b, layers: { ...(b.layers as object), 7: { drop: 'block' } } }),
        'moe_workbench.layers',
      ],
      [
        'drop',
        (b) => ({ ...b, layers: { ...(b.layers as object), 1: { drop: 'attention' } } }),
        'moe_workbench.layers.1.drop',
      ],
      [
        'missing tensor',
        (b) => {
          const c = structuredClone(b) as { layers: Record<string, { view: { router: string } }> };
          c.layers['0']!.view.router = 'model.layers.0.block_sparse_moe.gate.nope';
          return c;
        },
        'moe_workbench.layers.0.view.router',
      ],
      [
        'topK',
        (b) => {
          const c = structuredClone(b) as { layers: Record<string, { view: { topK: number } }> };
          c.layers['0']!.view.topK = 4;
          return c;
        },
        'moe_workbench.layers.0.view.topK',
      ],
      [
        'sources',
        (b) => {
          const c = structuredClone(b) as { layers: Record<string, { view: { sources: number[][] } }> };
          c.layers['0']!.view.sources = [[0], [9], [3]];
          return c;
        },
        'moe_workbench.layers.0.view.sources',
      ],
    ];
    for (const [name, edit, field] of cases) {
      const dir = path.join(root, `bad-${name.replace(/ /g, '-')}`);
      fs.cpSync(good, dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ ...config(good), moe_workbench: edit(block) }),
      );
      let err: unknown;
      try {
        openModel(dir).checkpoint.close();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(EngineError);
      expect((err as EngineError).file, name).toBe(path.join(dir, 'config.json'));
      expect((err as EngineError).field, name).toBe(field);
    }
  });
});
