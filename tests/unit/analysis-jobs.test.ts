// The analysis jobs on generated tiny models (Mixtral-style, and DeepSeek-style with a dense first
// layer and shared experts): each record satisfies its identities, and what the job records comes
// back from the store unchanged, parsed by the contract's schemas.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeParams } from '../../src-main/cli/commands/analyze';
import {
  type AnalysisKind,
  analysisRecords,
  type EnergyRecord,
  type RoutingRecord,
  type SensitivityRecord,
  type SimilarityRecord,
} from '../../src-main/contract/analyses';
import {
  runEnergy,
  runEntropy,
  runRouting,
  runSensitivity,
  runSimilarity,
} from '../../src-main/engine/jobs/analysis';
import { SensitivityAnalysisParams } from '../../src-main/engine/jobs/analysis.params';
import type { JobContext } from '../../src-main/engine/jobs/job-context';
import { JOBS } from '../../src-main/engine/jobs/registry';
import { openModel } from '../../src-main/engine/model/model';
import { calibrationTokens } from '../../src-main/engine/pipeline/calibration-data';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend } from '../../src-main/engine/tensor/backend';
import { openStore } from '../../src-main/store/index';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-analysis-'));
const text = path.join(dir, 'text.txt');
const mixtral = path.join(dir, 'mixtral');
const deepseek = path.join(dir, 'deepseek');
const CAL = { text, samples: 4, seqLen: 24, batch: 2, seed: 3 };

beforeAll(async () => {
  await initBackend();
  const held = fs.readFileSync(
    path.resolve(__dirname, '../../resources/data/heldout/c4-heldout.txt'),
    'utf8',
  );
  fs.writeFileSync(text, held.slice(0, 6000));
  writeTinyCheckpoint(mixtral, { arch: 'mixtral', layers: 3 });
  writeTinyCheckpoint(deepseek, { arch: 'deepseek', layers: 3 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Recorded {
  layers: { layer: number; stats: Record<string, unknown> }[];
  metrics: { name: string; value: number }[];
}

function fakeCtx(): { ctx: JobContext; rec: Recorded } {
  const rec: Recorded = { layers: [], metrics: [] };
  const ctx: JobContext = {
    jobId: 'j',
    runId: 1,
    backend: 'wasm',
    resumeFrom: null,
    signal: new AbortController().signal,
    throwIfCancelled() {},
    progress() {},
    record: {
      layer: (layer, stats) => rec.layers.push({ layer, stats }),
      artifact() {},
      metric: (name, value) => rec.metrics.push({ name, value }),
    },
  };
  return { ctx, rec };
}

const parse = (kind: AnalysisKind, raw: Record<string, unknown>) =>
  JOBS.get(`analysis.${kind}`)!.params.parse(raw) as never;

/** Writes the records to a real store and reads them back through the contract's parser. */
function roundTrip(kind: AnalysisKind, rec: Recorded) {
  const store = openStore(path.join(dir, `${kind}-${Math.random()}.sqlite`));
  try {
    const run = store.runs.create({ kind: `analysis.${kind}`, config: {}, appVersion: 'test' });
    for (const l of rec.layers) store.runs.recordLayer(run.id, l.layer, l.stats, 0.1, 0);
    return analysisRecords(kind, store.runs.detail(run.id)!.layers);
  } finally {
    store.close();
  }
}

const symmetric = (m: number[][]) => m.every((row, i) => row.every((v, j) => v === m[j]![i]));

describe.each([
  ['mixtral', mixtral, [0, 1, 2]],
  ['deepseek', deepseek, [1, 2]],
])('analyses on a tiny %s', (_name, model, moeLayers) => {
  it('routing: counts sum to tokens × topK on every MoE layer; the store round-trips it', async () => {
    const { ctx, rec } = fakeCtx();
    const r = await runRouting(ctx, parse('routing', { model, calibration: CAL, minTokens: 2 }));
    expect(r.records.map((x) => x.layer)).toEqual(moeLayers);
    for (const x of r.records as RoutingRecord[]) {
      expect(x.tokens).toBe(CAL.samples * CAL.seqLen);
      expect(x.counts.reduce((a, b) => a + b, 0)).toBe(x.tokens * x.topK);
      expect(x.covered).toBe(x.counts.filter((c) => c >= 2).length);
    }
    expect(roundTrip('routing', rec)).toEqual(r.records);
  });

  it('entropy: between 0 and log N, the average load at least the mean token entropy (concavity)', async () => {
    const { ctx, rec } = fakeCtx();
    const r = await runEntropy(ctx, parse('entropy', { model, calibration: CAL }));
    for (const x of r.records) {
      expect(x.meanTokenEntropy).toBeGreaterThan(0);
      expect(x.averageLoadEntropy).toBeLessThanOrEqual(x.maxEntropy + 1e-12);
      expect(x.averageLoadEntropy).toBeGreaterThanOrEqual(x.meanTokenEntropy - 1e-9);
      expect(x.maxEntropy).toBeCloseTo(Math.log(x.experts), 15);
    }
    expect(roundTrip('entropy', rec)).toEqual(r.records);
  });

  it('similarity: cosine and CKA symmetric with unit diagonal', async () => {
    const { ctx, rec } = fakeCtx();
    const r = await runSimilarity(ctx, parse('similarity', { model, calibration: CAL, ckaTokens: 60 }));
    expect(r.records.map((x) => x.layer)).toEqual(moeLayers);
    for (const x of r.records as SimilarityRecord[]) {
      expect(x.ckaTokens).toBe(60);
      for (const m of [x.weightCosine, x.outputCka]) {
        expect(m).toHaveLength(x.experts);
        expect(symmetric(m)).toBe(true);
        for (let i = 0; i < x.experts; i++) expect(m[i]![i]).toBeCloseTo(1, 12);
      }
      for (const row of x.outputCka) for (const v of row) expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(roundTrip('similarity', rec)).toEqual(r.records);
  });

  it.each([false, true])('energy (whitened %s): monotone, exactly 1 at full rank', async (whitened) => {
    const { ctx, rec } = fakeCtx();
    const r = await runEnergy(ctx, parse('energy', { model, calibration: CAL, whitened }));
    for (const x of r.records as EnergyRecord[]) {
      expect(x.whitened).toBe(whitened);
      expect(x.ranks.at(-1)).toBe(x.fullRank);
      for (const p of ['gate', 'up', 'down'] as const) {
        expect(x[p].min.at(-1)).toBe(1);
        for (let i = 1; i < x.ranks.length; i++)
          expect(x[p].mean[i]!).toBeGreaterThanOrEqual(x[p].mean[i - 1]!);
      }
    }
    expect(roundTrip('energy', rec)).toEqual(r.records);
  });
});

describe('per-layer sensitivity', () => {
  const evaluation = { dataset: text, seqLen: 48, maxWindows: 2 };

  it('ratio 0 leaves every layer as it is: zero change against the same windows', async () => {
    const { ctx, rec } = fakeCtx();
    const r = await runSensitivity(
      ctx,
      parse('sensitivity', { model: mixtral, calibration: CAL, method: 'svd-llm', ratio: 0, evaluation }),
    );
    expect(r.records).toHaveLength(3);
    for (const x of r.records as SensitivityRecord[]) {
      expect(x.noop).toBe(true);
      expect(x.deltaPpl).toBe(0);
      expect(x.ppl).toBe(r.baselinePpl);
      expect(x.paramsAfter).toBe(x.paramsBefore);
    }
    expect(rec.metrics.find((m) => m.name === 'ppl')!.value).toBe(r.baselinePpl);
    expect(roundTrip('sensitivity', rec)).toEqual(r.records);
  });

  it('svd-llm at 40 % compresses only the chosen layer, near 40 % of its routed parameters', async () => {
    const { ctx } = fakeCtx();
    const r = await runSensitivity(
      ctx,
      parse('sensitivity', {
        model: deepseek,
        calibration: CAL,
        method: 'svd-llm',
        ratio: 0.4,
        layers: [2],
        evaluation,
      }),
    );
    expect(r.records.map((x) => x.layer)).toEqual([2]);
    const x = r.records[0]! as SensitivityRecord;
    expect(x.noop).toBe(false);
    expect(x.knobs.rank).toBeGreaterThan(0);
    // the rank is an integer: the achieved share is within one rank step of the request
    const step = x.paramsBefore > 0 ? 1 / x.knobs.rank! : 1;
    expect(Math.abs(x.achievedRatio - 0.4)).toBeLessThan(step);
    expect(x.ppl).not.toBe(r.baselinePpl);
    expect(x.deltaPpl).toBeCloseTo(x.ppl - r.baselinePpl!, 12);
  });

  it('refuses a dense layer and a ratio in the method params, naming the field', async () => {
    const { ctx } = fakeCtx();
    await expect(
      runSensitivity(
        ctx,
        parse('sensitivity', {
          model: deepseek,
          calibration: CAL,
          method: 'svd-llm',
          layers: [0],
          evaluation,
        }),
      ),
    ).rejects.toThrow(/layer 0 is not a (live )?MoE layer/);
    await expect(
      runSensitivity(
        ctx,
        parse('sensitivity', {
          model: mixtral,
          calibration: CAL,
          method: 'svd-llm',
          params: { ratio: 0.2 },
          evaluation,
        }),
      ),
    ).rejects.toThrow(/params\.ratio/);
  });
});

describe('the runner restricted to one layer', () => {
  it('changes only that layer and solves the knob on it alone', async () => {
    const model = openModel(mixtral);
    const config = parsePipelineConfig({
      version: 2,
      name: 'one layer',
      model: mixtral,
      calibration: CAL,
      steps: [{ method: 'svd-llm', params: { ratio: 0.05 } }],
    });
    const { sequences } = await calibrationTokens(mixtral, config.calibration);
    const r = await runPipeline({
      model,
      config,
      calibration: sequences,
      workDir: path.join(dir, 'only-1'),
      onlyLayers: [1],
    });
    try {
      expect([...r.overrides.keys()]).toEqual([1]);
      expect([...r.records.keys()]).toEqual(['0:1']);
    } finally {
      disposeOverrides(r.overrides);
      model.checkpoint.close();
    }
  });
});

describe('moe-bench analyze flags', () => {
  const base = { model: 'tiny-mixtral', dataDir: [] };
  it('map onto the job params the schema accepts, and refuse flags of another kind', () => {
    const p = analyzeParams(
      'sensitivity',
      { ...base, method: 'svd-llm', ratio: 0.3, seqLen: 512, layers: [1] },
      undefined,
    );
    expect(SensitivityAnalysisParams.parse(p)).toMatchObject({
      method: 'svd-llm',
      ratio: 0.3,
      layers: [1],
      evaluation: { seqLen: 512 },
    });
    expect(() => analyzeParams('routing', { ...base, ckaTokens: 5 }, undefined)).toThrow(
      /--cka-tokens applies to analyze similarity/,
    );
    expect(() => analyzeParams('sensitivity', { ...base }, undefined)).toThrow(/needs --method/);
    // the flag's range is checked by its parser (tests/unit/cli-numeric-options.test.ts)
  });
});
