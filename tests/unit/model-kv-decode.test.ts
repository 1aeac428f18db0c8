// Decoding with the KV cache gives the logits of a full forward pass of the whole sequence: a
// prefill of the first tokens, then one token per step, compared row by row with sequenceLogits on
// every adapter's tiny checkpoint (RoPE, longrope, GQA, q/k norms, sliding window
// shorter than the sequence) and on compressed layers (factored experts with a shared factor,
// delta experts, dropped experts, a dropped MoE sub-layer, a dropped block).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decoder, greedy } from '../../src-main/engine/model/decoder';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type {
  ExpertWeights,
  LayerOverride,
  Linear,
  MoeLayerView,
  Tensor2D,
} from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { TINY_ARCHS, type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-decode-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function ids(n: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

function open(
  name: string,
  arch: TinyArch,
  layers: number,
  overrides?: Record<string, unknown>,
): LoadedModel {
  const dir = path.join(root, name);
  writeTinyCheckpoint(dir, { arch, layers, seed: 5, ...(overrides ? { overrides } : {}) });
  return openModel(dir);
}

const T = 24;
const PREFILL = 7;
const TOL = 2e-4;

/** Max |decode − full| over every position, for B sequences (prefill all rows, then steps). */
async function maxDecodeDiff(
  model: LoadedModel,
  seqs: number[][],
  layerOverrides?: ReadonlyMap<number, LayerOverride>,
): Promise<number> {
  const V = model.spec.vocab;
  const opts = layerOverrides ? { overrides: layerOverrides } : {};
  const full = await Promise.all(seqs.map((s) => sequenceLogits(model, s, opts)));
  const dec = new Decoder(model, opts);
  let worst = 0;
  const cmp = (got: Float32Array, gotRow: number, b: number, t: number) => {
    for (let j = 0; j < V; j++) {
      const d = Math.abs(got[gotRow * V + j]! - full[b]![t * V + j]!);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    }
  };
  try {
    const pre = await dec.prefill(seqs.map((s) => s.slice(0, PREFILL)));
    seqs.forEach((_, b) => {
      for (let t = 0; t < PREFILL; t++) cmp(pre, b * PREFILL + t, b, t);
    });
    for (let t = PREFILL; t < T; t++) {
      const z = await dec.step(seqs.map((s) => s[t]!));
      expect(dec.length).toBe(t + 1);
      for (let b = 0; b < seqs.length; b++) cmp(z, b, b, t);
    }
  } finally {
    dec.dispose();
  }
  return worst;
}

describe('KV-cache decode = full forward', () => {
  const variants: { name: string; arch: TinyArch; layers: number; overrides?: Record<string, unknown> }[] = [
    ...TINY_ARCHS.map((arch) => ({ name: arch, arch, layers: 2 })),
    // Qwen2 sliding window (8) shorter than the sequence, as in the parity tests
    {
      name: 'qwen2_moe+sliding',
      arch: 'qwen2_moe',
      layers: 2,
      overrides: { use_sliding_window: true, sliding_window: 8 },
    },
    // longrope below its original length (the short factors and mscale apply to every position)
    {
      name: 'phimoe+longrope',
      arch: 'phimoe',
      layers: 2,
      overrides: {
        original_max_position_embeddings: 64,
        max_position_embeddings: 256,
        rope_scaling: {
          type: 'longrope',
          short_factor: [1, 1.2, 1.5, 2, 2.5, 3, 4, 5],
          long_factor: [2, 3, 4, 5, 6, 7, 8, 9],
          short_mscale: 1.1,
          long_mscale: 1.3,
        },
      },
    },
  ];
  for (const v of variants) {
    it(`${v.name}: every step's logits match`, async () => {
      const model = open(v.name, v.arch, v.layers, v.overrides);
      try {
        const seq = ids(T, model.spec.vocab, 3);
        expect(await maxDecodeDiff(model, [seq])).toBeLessThan(TOL);
      } finally {
        model.checkpoint.close();
      }
    });
  }

  it('mixtral: a batch of two sequences decodes like each alone (window 16 < 24 tokens)', async () => {
    const model = open('mixtral-batch', 'mixtral', 2);
    try {
      expect(model.spec.slidingWindow[0]).toBe(16);
      const seqs = [ids(T, model.spec.vocab, 1), ids(T, model.spec.vocab, 2)];
      expect(await maxDecodeDiff(model, seqs)).toBeLessThan(TOL);
    } finally {
      model.checkpoint.close();
    }
  });

  it('compressed layers: factored (shared B), delta, dropped experts, dropped MoE sub-layer, dropped block', async () => {
    const model = open('mixtral-compressed', 'mixtral', 4);
    const views: MoeLayerView[] = [];
    try {
      const h = model.spec.hidden;
      const I = model.spec.moeIntermediate;
      const R = 6;
      const rnd = (r: number, c: number, seed: number) =>
        tf.randomNormal([r, c], 0, 0.1, 'float32', seed) as Tensor2D;
      // layer 0: experts 0..2 kept, factored with one shared B for gate and for up
      const d0 = readMoeView(model, 0);
      const sharedGate = rnd(R, h, 1);
      const sharedUp = rnd(R, h, 2);
      const experts0: ExpertWeights[] = [0, 1, 2].map((e) => ({
        gate: { kind: 'factored', A: rnd(I, R, 10 + e), B: sharedGate } as Linear,
        up: { kind: 'factored', A: rnd(I, R, 20 + e), B: sharedUp } as Linear,
        down: { kind: 'factored', A: rnd(h, R, 30 + e), B: rnd(R, I, 40 + e) } as Linear,
      }));
      const v0: MoeLayerView = {
        layer: 0,
        router: tf.slice(d0.router, [0, 0], [3, h]) as Tensor2D,
        experts: experts0,
        routing: d0.routing,
      };
      disposeMoeView(d0);
      // layer 1: delta experts (shared base + low-rank delta)
      const d1 = readMoeView(model, 1);
      const v1: MoeLayerView = {
        ...d1,
        experts: d1.experts.map((ex, e) => ({
          gate: {
            kind: 'delta',
            base: (ex.gate as { w: Tensor2D }).w,
            A: rnd(I, 3, 50 + e),
            B: rnd(3, h, 60 + e),
          },
          up: ex.up,
          down: ex.down,
        })),
      };
      views.push(v0, v1);
      const overrides = new Map<number, LayerOverride>([
        [0, { moe: v0 }],
        [1, { moe: v1 }],
        [2, { skipFfn: true }],
        [3, { skipBlock: true }],
      ]);
      const seq = ids(T, model.spec.vocab, 9);
      expect(await maxDecodeDiff(model, [seq], overrides)).toBeLessThan(TOL);
    } finally {
      // v1's delta tensors and the dense weights it reuses
      for (const v of views) disposeMoeView(v);
      model.checkpoint.close();
    }
  });

  it('greedy generation continues with the argmax of the full forward pass', async () => {
    const model = open('olmoe-greedy', 'olmoe', 2);
    const dec = new Decoder(model);
    try {
      const prompt = ids(6, model.spec.vocab, 4);
      const g = await greedy(dec, [prompt], 5);
      expect(g.tokens[0]).toHaveLength(5);
      expect(g.stepSeconds).toHaveLength(4);
      const seq = [...prompt, ...g.tokens[0]!];
      const full = await sequenceLogits(model, seq.slice(0, -1));
      const V = model.spec.vocab;
      for (let i = 0; i < 5; i++) {
        const row = full.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
        expect(g.tokens[0]![i]).toBe(row.indexOf(Math.max(...row)));
      }
    } finally {
      dec.dispose();
      model.checkpoint.close();
    }
  });
});
