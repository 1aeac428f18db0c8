// The layer-streamed backward pass (engine/grad): the differentiable layer forward reproduces the
// executor bit for bit on every architecture; the routing-weight Jacobian matches finite differences;
// the streamed per-sequence gradients equal one unstreamed full-model autograd tape and a finite
// difference of the executor's own loss; the Fisher is the mean squared per-sequence gradient.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossInputs, streamedBackward } from '../../src-main/engine/grad/backward';
import { BoundaryStore } from '../../src-main/engine/grad/boundary-store';
import { expertFisher, type LayerFisher } from '../../src-main/engine/grad/fisher';
import { registerEngineGradients } from '../../src-main/engine/grad/gradients';
import { layerForward, normOf, routingWeightsVjp } from '../../src-main/engine/grad/layer-forward';
import { ropeTables } from '../../src-main/engine/model/blocks/rope';
import { route } from '../../src-main/engine/model/blocks/routing';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import {
  disposeExecLayer,
  disposeMoeView,
  type ExecLayer,
  loadExecLayer,
  readMoeView,
} from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { globalNames } from '../../src-main/engine/model/tensor-names';
import type { LayerOverride, RoutingSpec, Tensor2D } from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { TINY_ARCHS, type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grad-'));
const models = new Map<TinyArch, LoadedModel>();
const T = 20;
const seqs = [
  Array.from({ length: T }, (_, i) => (i * 37 + 5) % 256),
  Array.from({ length: T }, (_, i) => (i * 11 + 100) % 256),
];

beforeAll(async () => {
  await initBackend();
  registerEngineGradients();
  for (const arch of TINY_ARCHS) {
    const dir = path.join(root, arch);
    writeTinyCheckpoint(dir, { arch, layers: 2, seed: 7 });
    models.set(arch, openModel(dir));
  }
});

afterAll(() => {
  for (const m of models.values()) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const shapeOf = (m: LoadedModel, l: number, batch: number, seqLen: number) => ({
  batch,
  seqLen,
  window: m.spec.slidingWindow[l] ?? null,
  rope: ropeTables(m.spec.rope, seqLen),
  tokenChunk: 1024,
  scoreBudgetBytes: 64 * 2 ** 20,
});

/** mean next-token NLL of one sequence through the executor (the independent inference path) */
async function executorLoss(
  m: LoadedModel,
  ids: number[],
  overrides?: Map<number, LayerOverride>,
): Promise<number> {
  const exec = new StreamingExecutor(m, overrides ? { overrides } : {});
  try {
    const x = await exec.forward(exec.embed([ids]));
    let nll = 0;
    await exec.logitsChunks(x.hidden, (r0, logits) => {
      const V = m.spec.vocab;
      const l = logits.dataSync();
      for (let i = 0; i < logits.shape[0]; i++) {
        const t = r0 + i;
        if (t + 1 >= ids.length) continue;
        let mx = -Infinity;
        for (let v = 0; v < V; v++) mx = Math.max(mx, l[i * V + v]!);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(l[i * V + v]! - mx);
        nll += mx + Math.log(s) - l[i * V + ids[t + 1]!]!;
      }
    });
    x.hidden.dispose();
    return nll / (ids.length - 1);
  } finally {
    exec.dispose();
  }
}

/** expert dense wT tensors of a loaded layer, in (expert, gate/up/down) order, plus the router */
function params(w: ExecLayer): tf.Tensor[] {
  if (w.ffn.kind !== 'moe') return [];
  const out: tf.Tensor[] = [w.ffn.moe.routerT];
  for (const e of w.ffn.moe.experts)
    for (const L of [e.gate, e.up, e.down]) if (L.kind === 'dense') out.push(L.wT);
  return out;
}

/** one autograd tape over embeddings → every layer → head → loss, for one sequence */
function unstreamedGrads(
  m: LoadedModel,
  ids: number[],
): { loss: number; grads: Map<number, Float32Array[]> } {
  const { spec, checkpoint: ck } = m;
  const layers = Array.from({ length: spec.layers }, (_, l) => loadExecLayer(m, l));
  const n = globalNames(spec);
  const normW: { weight: tf.Tensor1D; bias?: tf.Tensor1D } = {
    weight: ck.readTensor(n.finalNorm.weight) as tf.Tensor1D,
  };
  if (spec.norm.kind === 'layer') normW.bias = ck.readTensor(n.finalNorm.bias) as tf.Tensor1D;
  const headBias = spec.lmHeadBias ? (ck.readTensor(n.lmHead.bias) as tf.Tensor1D) : undefined;
  const headT = ck.readTensor(spec.tieEmbeddings ? n.embed : n.lmHead.weight, {
    transpose: true,
  }) as Tensor2D;
  const exec = new StreamingExecutor(m);
  const x0 = exec.embed([ids]).hidden;
  const ps = layers.map(params);
  const labels = ids.slice(1);
  try {
    const f = () => {
      let x = x0;
      for (let l = 0; l < spec.layers; l++)
        x = layerForward(spec, layers[l]!, x, shapeOf(m, l, 1, ids.length));
      const z = tf.matMul(normOf(spec, x, normW), headT);
      const logits = headBias ? tf.add(z, headBias) : z;
      const picked = tf.slice(logits, [0, 0], [labels.length, spec.vocab]);
      const c = tf.tensor2d(tf.max(picked, 1, true).dataSync(), [labels.length, 1]); // constant shift
      const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(picked, c)), 1, true)), c);
      const oh = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), spec.vocab), 'float32');
      const ll = tf.sum(tf.mul(picked, oh), 1, true);
      return tf.mean(tf.sub(lse, ll)) as tf.Scalar;
    };
    const { value, grads } = tf.engine().gradients(f, ps.flat(), undefined, true);
    const out = new Map<number, Float32Array[]>();
    let k = 0;
    ps.forEach((p, l) => {
      out.set(
        l,
        p.map(() => (grads[k++] ? (grads[k - 1]!.dataSync() as Float32Array) : new Float32Array(0))),
      );
    });
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...grads.filter((g): g is tf.Tensor => !!g)]);
    return { loss, grads: out };
  } finally {
    layers.forEach(disposeExecLayer);
    tf.dispose([
      normW.weight,
      ...(normW.bias ? [normW.bias] : []),
      ...(headBias ? [headBias] : []),
      headT,
      x0,
    ]);
    exec.dispose();
  }
}

async function streamedGrads(m: LoadedModel, sequences: number[][], memoryBudgetBytes?: number) {
  const grads = new Map<string, Float32Array[]>();
  const r = await streamedBackward({
    model: m,
    sequences,
    batch: 2,
    ...(memoryBudgetBytes !== undefined ? { memoryBudgetBytes } : {}),
    parameters: (_l, w) => params(w),
    onGradients: (l, s, g) => {
      grads.set(
        `${l}:${s}`,
        g.map((t) => (t ? (t.dataSync() as Float32Array).slice() : new Float32Array(0))),
      );
    },
  });
  return { r, grads };
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

describe('differentiable layer forward', () => {
  it.each(TINY_ARCHS)('%s: equals StreamingExecutor.runLayer exactly', async (arch) => {
    const m = models.get(arch)!;
    const exec = new StreamingExecutor(m);
    let x = exec.embed(seqs);
    try {
      for (let l = 0; l < m.spec.layers; l++) {
        const y = await exec.runLayer(l, x, {});
        const w = loadExecLayer(m, l);
        const z = tf.tidy(() => layerForward(m.spec, w, x.hidden, shapeOf(m, l, 2, T)));
        expect(Array.from(z.dataSync())).toEqual(Array.from(y.dataSync()));
        disposeExecLayer(w);
        z.dispose();
        x.hidden.dispose();
        x = { ...x, hidden: y };
      }
    } finally {
      x.hidden.dispose();
      exec.dispose();
    }
  });
});

describe('routing-weight Jacobian', () => {
  const specs: [string, RoutingSpec][] = [
    ['softmax top-2, renormalised', { kind: 'softmax-topk', topK: 2, normTopK: true, normEps: 1e-20 }],
    ['softmax top-3, raw', { kind: 'softmax-topk', topK: 3, normTopK: false, normEps: 0 }],
    ['sparsemixer', { kind: 'sparsemixer', topK: 2, jitterEps: 0.3 }],
  ];
  it.each(specs)('%s: matches central finite differences', (_name, spec) => {
    const n = 5;
    const N = 6;
    const logits = Float32Array.from({ length: n * N }, (_, i) => Math.sin(i * 1.7) * 1.3);
    const dy = Float64Array.from({ length: n * N }, (_, i) => Math.cos(i * 0.9));
    const r = route(logits, n, N, spec);
    const g = routingWeightsVjp(logits, n, N, spec, r, dy);
    // f(l) = Σ dy ⊙ dense weights, selection held fixed (the host decision)
    const f = (l: Float64Array) => {
      let s = 0;
      const l32 = Float32Array.from(l);
      for (let t = 0; t < n; t++) {
        const o = t * N;
        if (spec.kind === 'softmax-topk') {
          let mx = -Infinity;
          for (let e = 0; e < N; e++) mx = Math.max(mx, l[o + e]!);
          let z = 0;
          for (let e = 0; e < N; e++) z += Math.exp(l[o + e]! - mx);
          let S = 0;
          for (let j = 0; j < spec.topK; j++) S += Math.exp(l[o + r.experts[t * spec.topK + j]!]! - mx) / z;
          for (let j = 0; j < spec.topK; j++) {
            const e = r.experts[t * spec.topK + j]!;
            const p = Math.exp(l[o + e]! - mx) / z;
            s += dy[o + e]! * (spec.normTopK ? p / (S + spec.normEps) : p);
          }
        } else {
          // masks of the unperturbed logits, weights = softmax over the mask at the winner
          let masked = -1;
          for (let j = 0; j < 2; j++) {
            const b = r.experts[t * 2 + j]!;
            const mx = logits[o + b]!;
            let z = 0;
            for (let e = 0; e < N; e++) {
              if (e === masked) continue;
              const factor = Math.max(Math.abs(logits[o + e]!), mx);
              if ((mx - logits[o + e]!) / factor > 2 * spec.jitterEps) continue;
              z += Math.exp(l[o + e]! - l[o + b]!);
            }
            s += dy[o + b]! / z;
            masked = b;
          }
          void l32;
        }
      }
      return s;
    };
    const base = Float64Array.from(logits);
    const h = 1e-5;
    for (let i = 0; i < n * N; i++) {
      const a = base.slice();
      const b = base.slice();
      a[i]! += h;
      b[i]! -= h;
      expect(g[i]!).toBeCloseTo((f(a) - f(b)) / (2 * h), 4);
    }
  });
});

describe('streamed backward', () => {
  it('loss inputs: next-token and the reference double shift', () => {
    expect(lossInputs([1, 2, 3, 4], 'next-token')).toEqual({ input: [1, 2, 3, 4], labels: [2, 3, 4] });
    expect(lossInputs([1, 2, 3, 4], 'reference')).toEqual({ input: [1, 2, 3], labels: [3, 4] });
  });

  it.each(['mixtral', 'qwen2_moe', 'deepseek', 'phimoe'] as TinyArch[])(
    '%s: per-sequence gradients equal one unstreamed full-model tape',
    async (arch) => {
      const m = models.get(arch)!;
      const { r, grads } = await streamedGrads(m, seqs);
      for (let s = 0; s < seqs.length; s++) {
        const u = unstreamedGrads(m, seqs[s]!);
        expect(r.losses[s]!).toBeCloseTo(u.loss, 5);
        for (const [l, gs] of u.grads) {
          const st = grads.get(`${l}:${s}`)!;
          expect(st.length).toBe(gs.length);
          gs.forEach((g, i) => {
            expect(st[i]!.length).toBe(g.length);
            if (g.length > 0) expect(relDiff(st[i]!, g)).toBeLessThan(2e-4);
          });
        }
      }
    },
  );

  it('spilling the boundaries to disk changes nothing', async () => {
    const m = models.get('mixtral')!;
    const a = await streamedGrads(m, seqs);
    const b = await streamedGrads(m, seqs, 0);
    expect(b.r.spilledBytes).toBeGreaterThan(0);
    expect(b.r.boundaryMemoryBytes).toBe(0);
    expect(b.r.losses).toEqual(a.r.losses);
    for (const [k, g] of a.grads)
      g.forEach((t, i) => {
        expect(Array.from(b.grads.get(k)![i]!)).toEqual(Array.from(t));
      });
  });

  it('matches a finite difference of the executor loss on expert and router weights', async () => {
    const m = models.get('mixtral')!;
    const ids = seqs[0]!;
    const { grads } = await streamedGrads(m, [ids]);
    const base = await executorLoss(m, ids);
    const L = m.spec.layers;
    let checked = 0;
    for (const l of [0, L - 1]) {
      const g = grads.get(`${l}:0`)!;
      // router (index 0, wT [h, N]) and expert 0..1 gate/down (wT layouts) — largest entry of each
      for (const which of [0, 1, 3, 4]) {
        const gw = g[which]!;
        let best = 0;
        for (let i = 1; i < gw.length; i++) if (Math.abs(gw[i]!) > Math.abs(gw[best]!)) best = i;
        if (gw[best] === 0) continue;
        const eps = 2e-3;
        const lossAt = async (d: number) => {
          const view = readMoeView(m, l);
          // map the wT index back to the HF [out, in] element
          const target =
            which === 0
              ? view.router
              : (() => {
                  const e = Math.floor((which - 1) / 3);
                  const p = (['gate', 'up', 'down'] as const)[(which - 1) % 3]!;
                  const L2 = view.experts[e]![p];
                  if (L2.kind !== 'dense') throw new Error('dense expected');
                  return L2.w;
                })();
          const [out, inn] = target.shape;
          const i = best % out;
          const j = Math.floor(best / out);
          expect(j).toBeLessThan(inn);
          const data = target.dataSync().slice() as Float32Array;
          data[i * inn + j]! += d;
          const moved = tf.tensor2d(data, [out, inn]);
          if (which === 0) {
            view.router.dispose();
            view.router = moved;
          } else {
            const e = Math.floor((which - 1) / 3);
            const p = (['gate', 'up', 'down'] as const)[(which - 1) % 3]!;
            (view.experts[e]![p] as { w: Tensor2D }).w.dispose();
            view.experts[e]![p] = { kind: 'dense', w: moved };
          }
          const ov = new Map<number, LayerOverride>([[l, { moe: view }]]);
          try {
            return await executorLoss(m, ids, ov);
          } finally {
            disposeMoeView(view);
          }
        };
        const fd = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
        expect(Math.abs(fd - gw[best]!)).toBeLessThan(0.03 * Math.abs(gw[best]!) + 2e-5);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
    expect(Number.isFinite(base)).toBe(true);
  });

  it('Fisher = mean over sequences of the squared per-sequence gradient (full and diagonal)', async () => {
    const m = models.get('mixtral')!;
    const { grads } = await streamedGrads(m, seqs);
    const full = new Map<number, LayerFisher>();
    const diag = new Map<number, LayerFisher>();
    await expertFisher({ model: m, sequences: seqs, onLayer: (l, f) => void full.set(l, f) });
    await expertFisher({
      model: m,
      sequences: seqs,
      mode: 'diagonal',
      onLayer: (l, f) => void diag.set(l, f),
    });
    const h = m.spec.hidden;
    const I = m.spec.moeIntermediate;
    for (let l = 0; l < m.spec.layers; l++) {
      full.get(l)!.forEach((ef, e) => {
        (['gate', 'up', 'down'] as const).forEach((p, pi) => {
          const [out, inn] = p === 'down' ? [h, I] : [I, h];
          const f = ef![p];
          expect(f.shape).toEqual([out, inn]);
          const d = diag.get(l)![e]![p];
          expect(d.shape).toEqual([inn]);
          const want = new Float64Array(out * inn);
          for (let s = 0; s < seqs.length; s++) {
            const g = grads.get(`${l}:${s}`)![1 + e * 3 + pi]!; // wT layout [in, out]
            if (g.length === 0) continue;
            for (let j = 0; j < inn; j++)
              for (let i = 0; i < out; i++) want[i * inn + j]! += g[j * out + i]! ** 2 / seqs.length;
          }
          for (let k = 0; k < want.length; k += 97) expect(f.data[k]!).toBeCloseTo(want[k]!, 9);
          for (let j = 0; j < inn; j += 7) {
            let s = 0;
            for (let i = 0; i < out; i++) s += want[i * inn + j]!;
            expect(d.data[j]!).toBeCloseTo(Math.sqrt(s / out), 7);
          }
        });
      });
    }
  });
});

describe('memory', () => {
  it('the Fisher pass leaves no tensor behind (one layer at a time, nothing accumulates)', async () => {
    const m = models.get('mixtral')!;
    const before = tf.memory().numTensors;
    let most = 0;
    await expertFisher({
      model: m,
      sequences: seqs,
      onLayer: () => {
        most = Math.max(most, tf.memory().numTensors - before);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    // while a layer's Fisher is handed out, at most that layer's tensors are alive
    const perLayer = 3 * m.spec.experts + 32;
    expect(most).toBeLessThan(perLayer);
  });
});

describe('boundary store', () => {
  it('keeps entries in memory up to the budget and spills the rest', () => {
    const s = new BoundaryStore({ memoryBudgetBytes: 8, tempDir: root });
    s.put('a', Float32Array.from([1, 2]));
    s.put('b', Float32Array.from([3, 4, 5]));
    expect(s.peakMemoryBytes).toBe(8);
    expect(s.spilledBytes).toBe(12);
    expect(Array.from(s.take('b'))).toEqual([3, 4, 5]);
    expect(s.has('b')).toBe(false);
    expect(Array.from(s.get('a'))).toEqual([1, 2]);
    s.dispose();
    expect(fs.readdirSync(root).filter((f) => f.startsWith('moe-grad-'))).toEqual([]);
  });
});
