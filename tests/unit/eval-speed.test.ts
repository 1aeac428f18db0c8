// FLOPs accounting (engine/eval/flops.ts) on hand-computed cases, the cost shapes read from real
// layers (dense, factored with a shared factor, dropped sub-layer and block), and the eval.speed
// job's records. No timing is asserted: speed numbers only have to be positive and finite.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { metricSpec } from '../../src-main/contract/metrics';
import { flopsPerToken, type LayerCost, layerCost, visibleKeys } from '../../src-main/engine/eval/flops';
import { measureSpeed, median } from '../../src-main/engine/eval/speed';
import { run } from '../../src-main/engine/jobs/eval-speed';
import type { JobContext } from '../../src-main/engine/jobs/job-context';
import { JOBS } from '../../src-main/engine/jobs/registry';
import { recordSpeed } from '../../src-main/engine/jobs/speed-metrics';
import { disposeResident, StreamingExecutor } from '../../src-main/engine/model/executor';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { openModel } from '../../src-main/engine/model/model';
import type {
  ExpertWeights,
  LayerOverride,
  Linear,
  MoeLayerView,
  Tensor2D,
} from '../../src-main/engine/model/types';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

const MIXTRAL = path.resolve(__dirname, '../../resources/models/tiny-mixtral');
const DEEPSEEK = path.resolve(__dirname, '../../resources/models/tiny-deepseek');
beforeAll(async () => {
  await initBackend();
});

describe('FLOPs accounting by hand', () => {
  it('visible keys: causal triangle, capped by the window', () => {
    expect(visibleKeys(4, null)).toBe(1 + 2 + 3 + 4);
    expect(visibleKeys(5, 2)).toBe(1 + 2 + 2 + 2 + 2);
  });

  it('attention, dense MLP, MoE with measured routing, dropped block, lm_head', () => {
    // h = 4, H·D = 4: attnProj is given directly; 3 positions, window 2 in layer 1
    const costs: LayerCost[] = [
      {
        layer: 0,
        skipped: false,
        attnProj: 64,
        headWidth: 4,
        window: null,
        ffn: { kind: 'dense', macs: 100 },
      },
      {
        layer: 1,
        skipped: false,
        attnProj: 64,
        headWidth: 4,
        window: 2,
        ffn: { kind: 'moe', router: 12, sharedFactors: 8, experts: [30, 10, 50], shared: 5 },
      },
      { layer: 2, skipped: true, attnProj: 0, headWidth: 0, window: null, ffn: { kind: 'none' } },
      { layer: 3, skipped: false, attnProj: 64, headWidth: 4, window: null, ffn: { kind: 'none' } },
    ];
    // layer 1 routing over 3 tokens: expert 0 twice, expert 1 never, expert 2 three times (top-≤2)
    const routing = new Map([[1, { tokens: 3, pairs: [2, 0, 3] }]]);
    const r = flopsPerToken(costs, routing, { hidden: 4, vocab: 10 }, 3);
    // layer 0: 2·64 + 4·4·(1+2+3)/3 = 128 + 32 = 160 attention; 2·100 = 200 MLP
    expect(r.layers[0]).toEqual({
      layer: 0,
      flopsPerToken: 360,
      attention: 160,
      ffn: 200,
      expertsPerToken: null,
    });
    // layer 1: 2·64 + 16·(1+2+2)/3 = 128 + 80/3; MoE 2·(12 + 8 + (2·30 + 3·50)/3 + 5) = 2·95 = 190
    expect(r.layers[1]!.attention).toBeCloseTo(128 + 80 / 3, 12);
    expect(r.layers[1]!.ffn).toBe(190);
    expect(r.layers[1]!.expertsPerToken).toBeCloseTo(5 / 3, 12);
    expect(r.layers[2]!.flopsPerToken).toBe(0);
    expect(r.layers[3]).toMatchObject({ attention: 160, ffn: 0 });
    expect(r.lmHead).toBe(80);
    expect(r.flopsPerToken).toBeCloseTo(360 + 128 + 80 / 3 + 190 + 0 + 160 + 80, 9);
  });

  it('refuses a MoE layer without measured routing, and routing of the wrong width', () => {
    const c: LayerCost[] = [
      {
        layer: 0,
        skipped: false,
        attnProj: 1,
        headWidth: 1,
        window: null,
        ffn: { kind: 'moe', router: 1, sharedFactors: 0, experts: [1, 1], shared: 0 },
      },
    ];
    expect(() => flopsPerToken(c, new Map(), { hidden: 1, vocab: 1 }, 1)).toThrow(
      /no routing was measured for MoE layer 0/,
    );
    expect(() =>
      flopsPerToken(c, new Map([[0, { tokens: 1, pairs: [1] }]]), { hidden: 1, vocab: 1 }, 1),
    ).toThrow(/counts 1 experts, the layer has 2/);
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('cost shapes of real layers', () => {
  it('tiny-mixtral: dense experts, factored experts with shared B, dropped sub-layer and block', () => {
    const model = openModel(MIXTRAL);
    const { hidden: h, moeIntermediate: I, experts: N } = model.spec;
    expect([h, I, N]).toEqual([128, 128, 8]);
    const R = 5;
    const rnd = (r: number, c: number, s: number) =>
      tf.randomNormal([r, c], 0, 0.1, 'float32', s) as Tensor2D;
    const d = readMoeView(model, 0);
    const Bg = rnd(R, h, 1);
    const Bu = rnd(R, h, 2);
    const experts: ExpertWeights[] = Array.from({ length: 6 }, (_, e) => ({
      gate: { kind: 'factored', A: rnd(I, R, 10 + e), B: Bg } as Linear,
      up: { kind: 'factored', A: rnd(I, R, 20 + e), B: Bu } as Linear,
      down:
        e === 0
          ? d.experts[0]!.down
          : ({ kind: 'factored', A: rnd(h, R, 30 + e), B: rnd(R, I, 40 + e) } as Linear),
    }));
    const view: MoeLayerView = {
      layer: 0,
      router: tf.slice(d.router, [0, 0], [6, h]) as Tensor2D,
      experts,
      routing: d.routing,
    };
    const overrides = new Map<number, LayerOverride>([
      [0, { moe: view }],
      [2, { skipFfn: true }],
      [3, { skipBlock: true }],
    ]);
    const exec = new StreamingExecutor(model, { overrides });
    const layers = [0, 1, 2, 3].map((l) => exec.loadResident(l));
    try {
      const costs = layers.map((r) => layerCost(r, model.spec));
      // attention: q h·H·D + k, v 2·h·KV·D + o H·D·h with H = 4, KV = 2, D = 32
      const attnProj = 128 * 128 + 2 * 128 * 64 + 128 * 128;
      expect(costs[0]).toMatchObject({ attnProj, headWidth: 128, window: null, skipped: false });
      // shared B: once per token (gate and up: R·h each); per expert: A of gate and up (R·I each)
      // and the factored down R·(I + h); expert 0 keeps its dense down I·h
      expect(costs[0]!.ffn).toEqual({
        kind: 'moe',
        router: h * 6,
        sharedFactors: 2 * R * h,
        experts: [2 * R * I + I * h, ...Array(5).fill(2 * R * I + R * (I + h))],
        shared: 0,
      });
      expect(costs[1]!.ffn).toEqual({
        kind: 'moe',
        router: h * N,
        sharedFactors: 0,
        experts: Array(N).fill(3 * h * I),
        shared: 0,
      });
      expect(costs[2]).toMatchObject({ skipped: false, attnProj, ffn: { kind: 'none' } });
      expect(costs[3]).toMatchObject({ skipped: true, ffn: { kind: 'none' } });
    } finally {
      for (const r of layers) disposeResident(r);
      exec.dispose();
      disposeMoeView(view);
      disposeMoeView(d); // expert 0's down again: disposing twice is a no-op in tfjs

      model.checkpoint.close();
    }
  });

  it('tiny-deepseek: dense first layer, fused shared experts, measured top-4 routing', async () => {
    const model = openModel(DEEPSEEK);
    try {
      const r = await measureSpeed(model, { promptLen: 6, genLen: 3, batch: 2, seed: 1 }, { warmup: false });
      const { hidden: h, moeIntermediate: I, intermediate, sharedIntermediate, vocab } = model.spec;
      expect(r.flops.layers[0]).toMatchObject({ ffn: 2 * 3 * h * intermediate, expertsPerToken: null });
      const moe = r.flops.layers[1]!;
      // top-4 of 16, every token: 2·(router h·16 + 4 experts 3·h·I + shared 3·h·(2·I))
      expect(sharedIntermediate).toBe(2 * I);
      expect(moe.expertsPerToken).toBe(4);
      expect(moe.ffn).toBe(2 * (h * 16 + 4 * 3 * h * I + 3 * h * sharedIntermediate));
      expect(r.flops.lmHead).toBe(2 * h * vocab);
      // positions 0..7 (6 prompt + 2 fed back), full causal, H·D = h
      const attn = 2 * (4 * h * h) + (4 * h * visibleKeys(8, null)) / 8;
      expect(moe.attention).toBeCloseTo(attn, 9);
      expect(r.kvCacheBytes).toBe(4 * 2 * 2 * 8 * h * 4); // layers · batch · (k, v) · positions · KV·D · f32
      for (const v of [r.prefillTokensPerSecond, r.decodeTokensPerSecond, r.peakTensorBytes, r.peakRssBytes])
        expect(v).toBeGreaterThan(0);
    } finally {
      model.checkpoint.close();
    }
  });
});

describe('eval.speed job', () => {
  it('records speed, size and FLOPs under the contract names, one layer record per layer', async () => {
    const params = JOBS.get('eval.speed')!.params.parse({ model: MIXTRAL, promptLen: 8, genLen: 4 });
    expect(params).toMatchObject({ batch: 1, seed: 0 });
    const metrics = new Map<string, { value: number; headline?: boolean }>();
    const layers: { layer: number; stats: Record<string, unknown> }[] = [];
    const ctx: JobContext = {
      jobId: 'j',
      runId: 3,
      backend: 'wasm',
      resumeFrom: null,
      signal: new AbortController().signal,
      throwIfCancelled() {},
      progress() {},
      record: {
        layer: (layer, stats) => layers.push({ layer, stats }),
        artifact() {},
        metric: (name, value, o) =>
          metrics.set(name, { value, ...(o?.headline !== undefined ? { headline: o.headline } : {}) }),
      },
    };
    const r = await run(ctx, params as never);
    const model = openModel(MIXTRAL);
    expect(r.weightBytes).toBe(model.checkpoint.totalBytes());
    model.checkpoint.close();
    expect(metrics.get('weightBytes')).toEqual({ value: r.weightBytes, headline: true });
    expect(metrics.get('flopsPerToken')).toEqual({ value: r.flops.flopsPerToken, headline: true });
    for (const n of ['prefillTokensPerSecond', 'decodeTokensPerSecond', 'peakTensorBytes', 'kvCacheBytes'])
      expect(Number.isFinite(metrics.get(n)?.value) && metrics.get(n)!.value > 0).toBe(true);
    expect(layers.map((l) => l.layer)).toEqual([0, 1, 2, 3]);
    expect(layers.every((l) => l.stats.expertsPerToken === 2)).toBe(true);
  });

  it("a compress run's original is recorded under …Before, not as headline", async () => {
    const model = openModel(MIXTRAL);
    const r = await measureSpeed(model, { promptLen: 4, genLen: 2, batch: 1, seed: 0 }, { warmup: false });
    model.checkpoint.close();
    const got: [string, number, boolean | undefined][] = [];
    const rec = {
      layer() {},
      artifact() {},
      metric: (n: string, v: number, o?: { headline?: boolean }) => got.push([n, v, o?.headline]),
    };
    recordSpeed(rec, r, 'before');
    expect(got).toEqual([
      ['prefillTokensPerSecondBefore', r.prefillTokensPerSecond, false],
      ['decodeTokensPerSecondBefore', r.decodeTokensPerSecond, false],
      ['flopsPerTokenBefore', r.flops.flopsPerToken, false],
    ]);
    for (const [n] of got) expect(metricSpec(n)?.unit).toBeDefined();
  });

  it('refuses a generation shorter than two tokens, naming the field', () => {
    const p = JOBS.get('eval.speed')!.params.safeParse({ model: 'tiny-mixtral', genLen: 1 });
    expect(p.success).toBe(false);
    expect(JSON.stringify(p.error?.issues)).toMatch(/genLen/);
  });
});
