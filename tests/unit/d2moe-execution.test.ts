// D²-MoE execution (METHODS §3.3, §3.5): the shared base W_b1 x, W_b3 x applied once per chunk equals
// the per-expert base and the dense reconstruction W_e = W_b + ΔU ΔV; the dynamic half of the base
// pruning drops exactly `remove` channels per chunk, the ones a host-side reference of the paper's
// score (and of the probe score) picks; with nothing pruned dynamically the model is the static-only
// one; the decision persists through the layer manifest and the workbench export, and the stored
// count is d2StoredLayerExpertParams exactly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayerStats, LayerStatsCollector } from '../../src-main/engine/calibration/layer-stats';
import { exportModel } from '../../src-main/engine/export/export-model';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { compressD2Layer } from '../../src-main/engine/methods/d2-moe';
import { D2MoeParams, d2MoeDeclaration } from '../../src-main/engine/methods/d2-moe.params';
import { d2StoredLayerExpertParams, prunePlan } from '../../src-main/engine/methods/d2moe/accounting';
import { keepAllBut } from '../../src-main/engine/model/blocks/dynamic-prune';
import { moeBlock, sharedBases } from '../../src-main/engine/model/blocks/moe-block';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import {
  checkViewManifest,
  type ViewManifest,
  viewEntries,
  viewFromManifest,
} from '../../src-main/engine/model/layer-manifest';
import { disposeMoeView, moeViewToExec, readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type {
  ExpertEvent,
  ExpertWeights,
  LayerOverride,
  Linear,
  MoeLayerView,
  Tensor2D,
} from '../../src-main/engine/model/types';
import { layerStateOf, stateFromSpec } from '../../src-main/engine/pipeline/plan-state';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { disposeOverrides, driveStep } from '../support/drive-step';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'd2exec-'));
let model: LoadedModel;
let calib: number[][];
let stats0: LayerStats;
let x: Tensor2D;

beforeAll(async () => {
  await initBackend();
  writeTinyCheckpoint(path.join(dir, 'm'), { arch: 'mixtral', layers: 2, seed: 21 });
  model = openModel(path.join(dir, 'm'));
  const rng = xoshiro128ss(9);
  calib = Array.from({ length: 4 }, () => Array.from({ length: 48 }, () => rng.int(256)));
  const exec = new StreamingExecutor(model);
  const c = new LayerStatsCollector(
    0,
    model.spec.experts,
    { hidden: model.spec.hidden, intermediate: model.spec.moeIntermediate },
    { inputs: true },
  );
  const e0 = exec.embed(calib);
  const y = await exec.runLayer(0, e0, c.observer());
  tf.dispose([e0.hidden, y]);
  exec.dispose();
  stats0 = c.result();
  const r = xoshiro128ss(3);
  x = tf.tensor2d(
    Float32Array.from({ length: 40 * model.spec.hidden }, () => r.next() * 2 - 1),
    [40, model.spec.hidden],
  );
});

afterAll(() => {
  x.dispose();
  model.checkpoint.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const d2 = (extra: Record<string, unknown>, rank = 6): MoeLayerView => {
  const view = readMoeView(model, 0);
  try {
    return compressD2Layer({
      view,
      stats: stats0,
      fisher: null,
      params: D2MoeParams.parse({ base: 'freq', ...extra }),
      rank,
    }).view;
  } finally {
    disposeMoeView(view);
  }
};

/** W of a linear as a host [out, in] matrix (base + A·B for a delta). */
function denseOf(L: Linear): { data: Float32Array; rows: number; cols: number } {
  const t = tf.tidy(() =>
    L.kind === 'delta' ? tf.add(L.base, tf.matMul(L.A, L.B)) : (L as { w: Tensor2D }).w,
  );
  const [rows, cols] = t.shape as [number, number];
  const data = t.dataSync() as Float32Array;
  if (L.kind === 'delta') t.dispose();
  return { data: data.slice(), rows, cols };
}

/** The same layer with every expert stored densely as W_b + ΔU ΔV (the naive reconstruction). */
function reconstructed(view: MoeLayerView): MoeLayerView {
  const lin = (L: Linear): Linear => {
    const d = denseOf(L);
    return { kind: 'dense', w: tf.tensor2d(d.data, [d.rows, d.cols]) };
  };
  const experts: ExpertWeights[] = view.experts.map((e) => ({
    gate: lin(e.gate),
    up: lin(e.up),
    down: lin(e.down),
  }));
  return { layer: view.layer, router: tf.clone(view.router), experts, routing: view.routing };
}

async function block(
  view: MoeLayerView,
  opts: { naiveBase?: boolean; onExpert?: (e: ExpertEvent) => void } = {},
): Promise<Float32Array> {
  const { exec, owned } = moeViewToExec(view);
  if (opts.naiveBase) exec.naiveBase = true;
  try {
    const y = await moeBlock(x, exec, 0, 0, opts.onExpert ? { onExpert: opts.onExpert } : undefined);
    const out = (y.dataSync() as Float32Array).slice();
    y.dispose();
    return out;
  } finally {
    tf.dispose(owned);
  }
}

const maxAbs = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

describe('shared base computed once per chunk (§3.3 shared_infer)', () => {
  it.each([
    [{}],
    [{ shareV: true }],
    [{ shareV: true, mergeU: true }],
    [{ trimDeltas: 1 }],
    [{ ppRatio: 0.25, dynamic: false }],
  ])('%j: equals the per-expert base and the dense reconstruction', async (extra) => {
    const view = d2({ ppRatio: 0, ...extra });
    const dense = reconstructed(view);
    try {
      // gate and up each have one base tensor every expert holds: applied once per chunk
      const { exec, owned } = moeViewToExec(view);
      expect(sharedBases(exec.experts).size).toBe(2);
      tf.dispose(owned);
      const once = await block(view);
      const naive = await block(view, { naiveBase: true });
      const ref = await block(dense);
      expect(norm(ref)).toBeGreaterThan(1e-2);
      expect(maxAbs(once, naive)).toBeLessThan(1e-5 * norm(ref));
      expect(maxAbs(once, ref)).toBeLessThan(2e-5 * norm(ref));
    } finally {
      disposeMoeView(view);
      disposeMoeView(dense);
    }
  });
});

/** Per routed expert: its rows' input, full intermediate and (pruned) output, from the run itself. */
async function observed(view: MoeLayerView) {
  const ev: { expert: number; input: Float32Array; z: Float32Array; out: Float32Array; m: number }[] = [];
  const y = await block(view, {
    onExpert: (e) =>
      void ev.push({
        expert: e.expert,
        input: (e.input.dataSync() as Float32Array).slice(),
        z: (e.intermediate.dataSync() as Float32Array).slice(),
        out: (e.output.dataSync() as Float32Array).slice(),
        m: e.rows.length,
      }),
  });
  return { y, ev };
}

/** z[:, K] · W_down[:, K]ᵀ on the host. */
function downOn(z: Float32Array, m: number, W: ReturnType<typeof denseOf>, keep: Int32Array): Float32Array {
  const out = new Float32Array(m * W.rows);
  for (let t = 0; t < m; t++)
    for (let i = 0; i < W.rows; i++) {
      let s = 0;
      for (const j of keep) s += z[t * W.cols + j]! * W.data[i * W.cols + j]!;
      out[t * W.rows + i] = s;
    }
  return out;
}

describe('dynamic half of the base pruning (§3.5)', () => {
  const I = 64;
  const plan = prunePlan(I, 0.25, true, 1);
  it('the plan splits 16 channels into 8 static + 8 dynamic', () => {
    expect(plan).toMatchObject({ removed: 16, staticRemoved: 8, dynamicRemoved: 8 });
  });

  it('wanda: exactly `remove` channels dropped per chunk, the lowest ‖W_b2[:, j]‖·‖X[j, :]‖ (host reference)', async () => {
    const view = d2({ ppRatio: 0.25 });
    try {
      expect(view.dynamicPrune).toEqual({ remove: 8, score: 'wanda' });
      const Ik = I - plan.staticRemoved;
      const { ev } = await observed(view);
      const down0 = view.experts[0]!.down;
      if (down0.kind !== 'delta') throw new Error('delta expected');
      const base = denseOf({ kind: 'dense', w: down0.base });
      const col = Float64Array.from({ length: Ik }, (_, j) => {
        let s = 0;
        for (let i = 0; i < base.rows; i++) s += base.data[i * Ik + j]! ** 2;
        return Math.sqrt(s);
      });
      const x2 = new Float64Array(Ik);
      for (const e of ev)
        for (let t = 0; t < e.m; t++) for (let j = 0; j < Ik; j++) x2[j] += e.z[t * Ik + j]! ** 2;
      const keep = keepAllBut(
        Float64Array.from(col, (c, j) => c * Math.sqrt(x2[j]!)),
        8,
      );
      expect(keep.length).toBe(Ik - 8);
      let changed = 0;
      for (const e of ev) {
        const W = denseOf(view.experts[e.expert]!.down);
        const want = downOn(e.z, e.m, W, keep);
        expect(maxAbs(e.out, want)).toBeLessThan(1e-4 * (norm(want) + 1e-6));
        const all = downOn(
          e.z,
          e.m,
          W,
          Int32Array.from({ length: Ik }, (_, j) => j),
        );
        changed = Math.max(changed, maxAbs(all, want));
      }
      expect(changed).toBeGreaterThan(1e-4); // the pruning did something
    } finally {
      disposeMoeView(view);
    }
  });

  it.each([[0], [1], [undefined]])(
    'probe (alpha %s): per expert, the probe of the top ⌈t/2⌉ input norms and the calibration g (host reference)',
    async (alpha) => {
      const view = d2({
        ppRatio: 0.25,
        dynamicScore: 'probe',
        ...(alpha === undefined ? {} : { probeAlpha: alpha }),
      });
      try {
        const Ik = I - plan.staticRemoved;
        const g = view.dynamicPrune!.calibration!;
        expect(g.length).toBe(Ik);
        const { ev } = await observed(view);
        for (const e of ev) {
          const W = denseOf(view.experts[e.expert]!.down);
          const w4 = Float64Array.from({ length: Ik }, (_, j) => {
            let s = 0;
            for (let i = 0; i < W.rows; i++) s += W.data[i * Ik + j]! ** 4;
            return Math.sqrt(s);
          });
          const h = model.spec.hidden;
          const n2 = Array.from({ length: e.m }, (_, t) =>
            e.input.subarray(t * h, (t + 1) * h).reduce((s, v) => s + v * v, 0),
          );
          const k = Math.min(e.m, Math.max(Math.ceil(e.m / 2), 2));
          const probe = Array.from({ length: e.m }, (_, t) => t)
            .sort((a, b) => n2[b]! - n2[a]! || a - b)
            .slice(0, k);
          const s = Float64Array.from({ length: Ik }, (_, j) => {
            let q = 0;
            for (const t of probe) q += e.z[t * Ik + j]! ** 2;
            q /= k;
            const a = alpha ?? q / (q + g[j]! + 1e-6);
            return ((1 - a) * g[j]! + a * q) * w4[j]!;
          });
          const want = downOn(e.z, e.m, W, keepAllBut(s, 8));
          expect(maxAbs(e.out, want)).toBeLessThan(1e-4 * (norm(want) + 1e-6));
        }
      } finally {
        disposeMoeView(view);
      }
    },
  );

  it('nothing pruned dynamically: the model is the static-only one (same static channels), and pruning changes it', async () => {
    const semi = d2({ ppRatio: 0.25 });
    const staticOnly = d2({ ppRatio: 0.125, dynamic: false });
    try {
      expect(prunePlan(I, 0.125, false, 1).staticRemoved).toBe(plan.staticRemoved);
      const pruned = await block(semi);
      const { dynamicPrune, ...rest } = semi;
      const none = await block({ ...rest, dynamicPrune: { remove: 0, score: 'wanda' } });
      const without = await block(rest);
      const ref = await block(staticOnly);
      expect(Array.from(none)).toEqual(Array.from(without));
      expect(Array.from(without)).toEqual(Array.from(ref));
      expect(maxAbs(pruned, ref)).toBeGreaterThan(1e-4);
      expect(dynamicPrune!.remove).toBe(8);
    } finally {
      disposeMoeView(semi);
      disposeMoeView(staticOnly);
    }
  });

  it('keepAllBut keeps n − remove channels in index order; ties drop the higher index; NaN is an error', () => {
    expect(Array.from(keepAllBut([3, 1, 1, 2], 2))).toEqual([0, 3]);
    expect(Array.from(keepAllBut([3, 1, 5, 2], 1))).toEqual([0, 2, 3]);
    expect(() => keepAllBut([1, Number.NaN], 1)).toThrow(/NaN/);
  });
});

describe('persistence and accounting', () => {
  it.each([[{ ppRatio: 0.25 }], [{ ppRatio: 0.25, dynamicScore: 'probe', probeAlpha: 0.3 }]])(
    '%j: the manifest round-trips the decision; the block output is identical',
    async (extra) => {
      const view = d2(extra);
      try {
        const { entries, manifest } = viewEntries(model.spec, view, 'F32');
        const json = JSON.parse(JSON.stringify(manifest)) as ViewManifest;
        const byName = new Map(entries.map((e) => [e.name, e]));
        checkViewManifest(model.spec, 0, json, (n) => byName.get(n)?.shape ?? null, 'f', 'layers.0');
        const back = viewFromManifest(0, json, view.routing, (n) => {
          const e = byName.get(n)!;
          return (
            e.shape.length === 2 ? tf.tensor2d(e.data(), e.shape as [number, number]) : tf.tensor1d(e.data())
          ) as Tensor2D;
        });
        try {
          expect(back.dynamicPrune).toEqual(view.dynamicPrune);
          expect(Array.from(await block(back))).toEqual(Array.from(await block(view)));
          const bad = { ...json, dynamicPrune: { ...json.dynamicPrune!, remove: 56 } };
          expect(() =>
            checkViewManifest(model.spec, 0, bad, (n) => byName.get(n)?.shape ?? null, 'f', 'layers.0'),
          ).toThrow(/dynamicPrune\.remove 56; allowed 0\.\.55/);
        } finally {
          disposeMoeView(back);
        }
      } finally {
        disposeMoeView(view);
      }
    },
  );

  it.each([
    [{ ppRatio: 0.25 }],
    [{ ppRatio: 0.25, shareV: true }],
    [{ ppRatio: 0.6, shareV: true, mergeU: true }],
    [{ ppRatio: 0.25, trimDeltas: 1 }],
    [{ ppRatio: 0.25, dynamic: false }],
    [{ ppRatio: 0.6, channelMultiple: 16 }],
    [{ ppRatio: 0.25, dynamicScore: 'probe' }],
  ])('%j: the stored view is counted exactly as d2StoredLayerExpertParams', (extra) => {
    const view = d2(extra);
    try {
      const p = D2MoeParams.parse({ base: 'freq', ...extra });
      const s0 = stateFromSpec(model.spec);
      const got = layerStateOf(s0.layers[0]!, { moe: view }).expertParams;
      expect(got).toBe(
        d2StoredLayerExpertParams(model.spec.hidden, model.spec.moeIntermediate, model.spec.experts, p, 6),
      );
    } finally {
      disposeMoeView(view);
    }
  });
});

describe('export', () => {
  async function logits(m: LoadedModel, overrides?: Map<number, LayerOverride>): Promise<Float32Array> {
    const exec = new StreamingExecutor(m, overrides ? { overrides } : {});
    try {
      const h = await exec.forward(exec.embed(calib.slice(0, 2)));
      const parts: number[] = [];
      await exec.logitsChunks(h.hidden, (_r, l) => void parts.push(...(l.dataSync() as Float32Array)));
      h.hidden.dispose();
      return Float32Array.from(parts);
    } finally {
      exec.dispose();
    }
  }

  it('workbench format keeps base + deltas + the dynamic pruning: the reloaded model gives the same logits', async () => {
    const d = await driveStep(model, d2MoeDeclaration, { rank: 6, ppRatio: 0.25, base: 'freq' }, calib, {
      batch: 2,
    });
    try {
      const want = await logits(model, d.overrides);
      const out = path.join(dir, 'factored');
      const r = exportModel(model, d.overrides, out, { format: 'factored', dtype: 'F32' });
      expect(r.format).toBe('factored');
      const back = openModel(out);
      try {
        expect(maxAbs(await logits(back), want)).toBeLessThan(1e-5);
      } finally {
        back.checkpoint.close();
      }
      const dense = exportModel(model, d.overrides, path.join(dir, 'dense-refused'), { format: 'dense' });
      expect(dense.format).toBe('factored');
      expect(dense.fallbackReason).toMatch(/width|per batch/);
    } finally {
      disposeOverrides(d.overrides);
    }
  });

  it('dense reconstruction on request (no base pruning): a plain HF checkpoint with W_e = W_b + ΔU ΔV', async () => {
    const d = await driveStep(
      model,
      d2MoeDeclaration,
      { rank: 6, ppRatio: 0, base: 'freq', shareV: true },
      calib,
      {
        batch: 2,
      },
    );
    try {
      const want = await logits(model, d.overrides);
      const out = path.join(dir, 'dense');
      const r = exportModel(model, d.overrides, out, { format: 'dense', dtype: 'F32' });
      expect(r.format).toBe('dense');
      const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(Object.keys(cfg).some((k) => k.includes('moe_workbench'))).toBe(false);
      const back = openModel(out);
      try {
        expect(maxAbs(await logits(back), want)).toBeLessThan(1e-4);
      } finally {
        back.checkpoint.close();
      }
    } finally {
      disposeOverrides(d.overrides);
    }
  });
});
