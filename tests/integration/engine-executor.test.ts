// Layer-streaming executor: memory does not grow across layers, observer hooks are consistent with
// the computed layer output, overrides (dense views, factored experts with a shared B) reproduce
// the checkpoint's results, cancellation stops the loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src-main/engine/errors';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type {
  ExpertEvent,
  LayerOverride,
  MoeLayerView,
  RouterEvent,
  Tensor2D,
} from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const SEQS = [
  Array.from({ length: 12 }, (_, i) => (i * 31 + 7) % 256),
  Array.from({ length: 12 }, (_, i) => (i * 17 + 3) % 256),
];

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('streaming executor', () => {
  let root: string;
  let olmoe: LoadedModel;
  let deepseek: LoadedModel;
  beforeAll(async () => {
    await initBackend();
    root = mkdtempSync(path.join(tmpdir(), 'engine-exec-'));
    writeTinyCheckpoint(path.join(root, 'olmoe'), { arch: 'olmoe', layers: 3, seed: 9 });
    writeTinyCheckpoint(path.join(root, 'deepseek'), { arch: 'deepseek', layers: 3, seed: 9 });
    olmoe = openModel(path.join(root, 'olmoe'));
    deepseek = openModel(path.join(root, 'deepseek'));
  });
  afterAll(() => {
    olmoe.checkpoint.close();
    deepseek.checkpoint.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('tf.memory().numTensors does not grow across layers (dense and MoE, with a token chunk of 5)', async () => {
    const exec = new StreamingExecutor(deepseek, { tokenChunk: 5 });
    let x = exec.embed(SEQS);
    (await exec.runLayer(0, x)).dispose(); // warm the RoPE table cache
    const counts: number[] = [];
    for (let l = 0; l < deepseek.spec.layers; l++) {
      counts.push(tf.memory().numTensors);
      const next = await exec.runLayer(l, x);
      x.hidden.dispose();
      x = { ...x, hidden: next };
    }
    counts.push(tf.memory().numTensors);
    expect(new Set(counts).size).toBe(1);
    x.hidden.dispose();
    exec.dispose();
  });

  it('hooks: routed expert outputs, weighted and scattered, sum to the MoE output', async () => {
    const L = 1;
    const h = olmoe.spec.hidden;
    const k = olmoe.spec.routing.topK;
    const exec = new StreamingExecutor(olmoe);
    const x = exec.embed(SEQS);
    const n = x.hidden.shape[0];
    let attn: Float32Array | null = null;
    let input: Float32Array | null = null;
    const routers: RouterEvent['experts'][] = [];
    const acc = new Float64Array(n * h);
    const seenRows: number[] = [];
    const view = readMoeView(olmoe, L);
    let interErr = 0;
    const out = await exec.runLayer(L, x, {
      onLayerInput: (e) => {
        input = e.hidden.dataSync() as Float32Array;
      },
      onAttentionOutput: (e) => {
        attn = e.output.dataSync() as Float32Array;
      },
      onRouter: (e) => {
        expect(e.probs.shape).toEqual([n, olmoe.spec.experts]);
        routers.push(e.experts.slice());
      },
      onExpert: (e: ExpertEvent) => {
        const y = e.output.dataSync();
        e.rows.forEach((r, i) => {
          seenRows.push(r);
          for (let j = 0; j < h; j++) acc[r * h + j]! += e.weights[i]! * y[i * h + j]!;
        });
        // output = intermediate · down^T
        const down = view.experts[e.expert]!.down;
        if (down.kind !== 'dense') throw new Error('dense expected');
        const re = tf.tidy(() => tf.matMul(e.intermediate, tf.transpose(down.w)));
        interErr = Math.max(interErr, maxAbs(re.dataSync(), y));
        re.dispose();
      },
    });
    const o = out.dataSync();
    let err = 0;
    for (let i = 0; i < n * h; i++) err = Math.max(err, Math.abs(o[i]! - (input![i]! + attn![i]! + acc[i]!)));
    expect(err).toBeLessThan(1e-5);
    expect(interErr).toBeLessThan(1e-5);
    expect(seenRows.length).toBe(n * k);
    expect(routers.flatMap((r) => Array.from(r)).length).toBe(n * k);
    tf.dispose([out, x.hidden]);
    disposeMoeView(view);
    exec.dispose();
  });

  it('a layer override holding the checkpoint view reproduces the logits; skipFfn changes them', async () => {
    const base = await sequenceLogits(olmoe, SEQS[0]!);
    const view = readMoeView(olmoe, 2);
    const same = await sequenceLogits(olmoe, SEQS[0]!, { overrides: new Map([[2, { moe: view }]]) });
    expect(maxAbs(base, same)).toBeLessThan(1e-5);
    const skipped = await sequenceLogits(olmoe, SEQS[0]!, { overrides: new Map([[2, { skipFfn: true }]]) });
    expect(maxAbs(base, skipped)).toBeGreaterThan(1e-3);
    disposeMoeView(view);
  });

  it('factored experts with one shared B (applied once per token) equal the dense experts', async () => {
    const base = await sequenceLogits(deepseek, SEQS[1]!);
    const view = readMoeView(deepseek, 1);
    const eye = tf.eye(deepseek.spec.hidden) as Tensor2D; // shared B: W = W · I
    const factored: MoeLayerView = {
      ...view,
      experts: view.experts.map((e) => ({
        gate: e.gate.kind === 'dense' ? { kind: 'factored', A: e.gate.w, B: eye } : e.gate,
        up:
          e.up.kind === 'dense'
            ? {
                kind: 'delta',
                base: e.up.w,
                A: tf.zeros([e.up.w.shape[0], 2]),
                B: tf.zeros([2, e.up.w.shape[1]]),
              }
            : e.up,
        down: e.down,
      })),
    };
    const overrides = new Map<number, LayerOverride>([[1, { moe: factored }]]);
    const before = tf.memory().numTensors;
    const got = await sequenceLogits(deepseek, SEQS[1]!, { overrides });
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbs(base, got)).toBeLessThan(1e-5);
    disposeMoeView(factored);
    for (const e of view.experts) if (e.up.kind === 'dense') e.up.w.dispose();
  });

  it('dropping experts (router rows sliced) runs; an inconsistent view is refused', async () => {
    const view = readMoeView(olmoe, 1);
    const keep = [0, 2, 3, 5, 7];
    const rows = tf.tensor1d(keep, 'int32');
    const pruned: MoeLayerView = {
      ...view,
      router: tf.gather(view.router, rows) as Tensor2D,
      experts: keep.map((e) => view.experts[e]!),
    };
    const got = await sequenceLogits(olmoe, SEQS[0]!, { overrides: new Map([[1, { moe: pruned }]]) });
    expect(got.every(Number.isFinite)).toBe(true);
    const bad: MoeLayerView = { ...view, experts: view.experts.slice(1) };
    const before = tf.memory().numTensors;
    await expect(
      sequenceLogits(olmoe, SEQS[0]!, { overrides: new Map([[1, { moe: bad }]]) }),
    ).rejects.toThrow(/router has 8 rows but 7 experts/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([rows, pruned.router]);
    disposeMoeView(view);
  });

  it('query-chunked attention (tiny score budget) equals one-block attention, with a sliding window', async () => {
    const dir = path.join(root, 'mixtral');
    writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 1, seed: 4 });
    const m = openModel(dir);
    const seq = Array.from({ length: 40 }, (_, i) => (i * 19 + 1) % 256);
    const whole = await sequenceLogits(m, seq);
    const chunked = await sequenceLogits(m, seq, {
      scoreBudgetBytes: 2 * 4 * 40 * 7,
      tokenChunk: 7,
      logitsBudgetBytes: 272 * 4 * 3,
    });
    expect(maxAbs(whole, chunked)).toBeLessThan(1e-5);
    m.checkpoint.close();
  });

  it('an observer that throws aborts the run without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    for (const hook of ['onRouter', 'onExpert', 'onSharedExpert', 'onLayerOutput'] as const) {
      const observer = {
        [hook]: () => {
          throw new Error(`boom in ${hook}`);
        },
      };
      await expect(sequenceLogits(deepseek, SEQS[0]!, { observer })).rejects.toThrow(`boom in ${hook}`);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('an aborted signal stops the run with CancelledError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(sequenceLogits(olmoe, SEQS[0]!, { signal: ac.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
  });
});
