// Stored runs as the store returns them (RunDetail), for the report tests: an eval.speed baseline,
// a compress run with layer records and the speed metrics, and one analysis run of every kind in
// the contract's record shapes (contract/analyses.ts).
import type { RunDetail } from '../../src-main/contract/index';

const base = {
  status: 'succeeded' as const,
  modelId: 1,
  modelName: 'tiny-mixtral',
  pipelineName: null,
  seed: null,
  backend: 'wasm',
  appVersion: '0.0.0',
  createdAt: '2026-12-02T10:00:00.000Z',
  startedAt: '2026-12-02T10:00:00.000Z',
  finishedAt: '2026-12-02T10:00:10.000Z',
  seconds: 10,
  error: null,
  headline: {},
  artifacts: [],
};

export function baselineRun(): RunDetail {
  return {
    ...base,
    id: 11,
    kind: 'eval.speed',
    config: { model: 'tiny-mixtral', promptLen: 512, genLen: 128, batch: 1, seed: 0, modelDirs: ['/x'] },
    metrics: [
      { name: 'prefillTokensPerSecond', value: 180.25, dataset: null, unit: 'tok/s', headline: true },
      { name: 'decodeTokensPerSecond', value: 15.5, dataset: null, unit: 'tok/s', headline: true },
      { name: 'flopsPerToken', value: 2891776, dataset: null, unit: 'FLOP', headline: true },
      { name: 'weightBytes', value: 5646592, dataset: null, unit: 'bytes', headline: true },
      { name: 'ppl', value: 12.345678901234, dataset: 'wikitext2', unit: null, headline: true },
    ],
    layers: [0, 1].map((layer) => ({
      step: 0,
      layer,
      stats: { flopsPerToken: 300000 + layer, expertsPerToken: 2, note: 'a,"quoted" value' },
      seconds: null,
    })),
  };
}

export function compressedRun(): RunDetail {
  return {
    ...base,
    id: 12,
    kind: 'compress',
    pipelineName: 'svd-llm-40',
    seconds: 56.1,
    config: {
      outDir: '/tmp/out',
      config: {
        version: 2,
        name: 'svd-llm-40',
        model: 'tiny-mixtral',
        target: { ratio: 0.4 },
        steps: [{ method: 'svd-llm', params: { repair: 'shift-min-eig' } }],
      },
    },
    metrics: [
      { name: 'prefillTokensPerSecond', value: 545.5, dataset: null, unit: 'tok/s', headline: true },
      { name: 'decodeTokensPerSecond', value: 18.4, dataset: null, unit: 'tok/s', headline: true },
      { name: 'flopsPerToken', value: 2326528, dataset: null, unit: 'FLOP', headline: true },
      { name: 'ppl', value: 14.5, dataset: 'wikitext2', unit: null, headline: true },
      { name: 'achievedRatio', value: 0.4004171011470281, dataset: null, unit: 'ratio', headline: true },
    ],
    layers: [0, 1, 2].map((layer) => ({
      step: 0,
      layer,
      stats: { rank: 18, energy: 0.9 - layer / 100, experts: [1, 2, 3] },
      seconds: 1.5 + layer,
    })),
  };
}

const curve = (n: number) => ({
  mean: Array.from({ length: n }, (_, i) => (i + 1) / n),
  min: Array.from({ length: n }, (_, i) => (i + 0.5) / n),
  max: Array.from({ length: n }, (_, i) => Math.min(1, (i + 1.5) / n)),
  rankAt: [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4],
  ],
});

export function analysisRuns(): RunDetail[] {
  const run = (id: number, kind: string, stats: Record<string, unknown>[]): RunDetail => ({
    ...base,
    id,
    kind: `analysis.${kind}`,
    config: { model: 'tiny-mixtral' },
    metrics: [],
    layers: stats.map((s) => ({ step: 0, layer: s.layer as number, stats: s, seconds: null })),
  });
  const layers = [0, 1, 2, 3];
  return [
    run(
      21,
      'sensitivity',
      layers.map((layer) => ({
        analysis: 'sensitivity',
        layer,
        method: 'svd-llm',
        ratio: 0.4,
        knobs: { rank: 18 },
        noop: false,
        paramsBefore: 1000,
        paramsAfter: 600,
        achievedRatio: 0.4,
        baselinePpl: 10,
        ppl: 10 + layer * 0.5,
        deltaPpl: layer * 0.5,
        relativeDelta: layer * 0.05,
        seconds: 2,
      })),
    ),
    run(
      22,
      'routing',
      layers.map((layer) => ({
        analysis: 'routing',
        layer,
        tokens: 100,
        topK: 2,
        counts: [50, 60, 40, 50],
        frequency: [0.5, 0.6, 0.4, 0.5],
        minTokens: 1,
        covered: 4,
        coverage: 1,
      })),
    ),
    run(
      23,
      'similarity',
      [0].map((layer) => ({
        analysis: 'similarity',
        layer,
        experts: 2,
        weightCosine: [
          [1, 0.2],
          [0.2, 1],
        ],
        outputCka: [
          [1, 0.7],
          [0.7, 1],
        ],
        ckaTokens: 64,
      })),
    ),
    run(
      24,
      'energy',
      [0].map((layer) => ({
        analysis: 'energy',
        layer,
        whitened: true,
        fallbackExperts: 0,
        fullRank: 4,
        ranks: [1, 2, 3, 4],
        gate: curve(4),
        up: curve(4),
        down: curve(4),
      })),
    ),
    run(
      25,
      'entropy',
      layers.map((layer) => ({
        analysis: 'entropy',
        layer,
        experts: 8,
        tokens: 100,
        meanTokenEntropy: 1.5 + layer / 10,
        averageLoadEntropy: 2,
        selectionEntropy: 1.9,
        maxEntropy: Math.log(8),
      })),
    ),
  ];
}
