import type { RunDetail } from '@contract';
import { describe, expect, it } from 'vitest';
import {
  configDiffTable,
  layerDeltaTable,
  metricsTable,
  relativeDelta,
} from '../../src-renderer/src/compare/comparison';
import { diffConfigs, flattenJson } from '../../src-renderer/src/compare/json-diff';
import { toCsv, toMarkdown } from '../../src-renderer/src/compare/table-export';

describe('json diff', () => {
  it('flattens nested objects and arrays to leaf paths, empty containers are leaves', () => {
    const flat = flattenJson({ a: { b: 1, c: [2, { d: null }] }, e: {}, f: [], $schema: 'x' });
    expect([...flat]).toEqual([
      ['a.b', 1],
      ['a.c[0]', 2],
      ['a.c[1].d', null],
      ['e', '{}'],
      ['f', '[]'],
    ]);
  });

  it('keeps only the paths that differ, across two or more configs, with missing values as undefined', () => {
    const a = { name: 'x', target: { ratio: 0.2 }, steps: [{ method: 'svd', params: {} }] };
    const b = { name: 'x', target: { ratio: 0.4 }, steps: [{ method: 'svd', params: { rank: 8 } }] };
    const c = { name: 'x', target: { ratio: 0.2 }, steps: [{ method: 'svd', params: {} }] };
    expect(diffConfigs([a, b, c])).toEqual([
      { path: 'target.ratio', values: [0.2, 0.4, 0.2] },
      { path: 'steps[0].params', values: ['{}', undefined, '{}'] },
      { path: 'steps[0].params.rank', values: [undefined, 8, undefined] },
    ]);
    expect(diffConfigs([a, structuredClone(a)])).toEqual([]);
  });

  it('tells a missing key from an explicit null', () => {
    expect(diffConfigs([{ a: null }, {}]).map((d) => d.path)).toEqual(['a', '']);
  });
});

describe('CSV and Markdown export', () => {
  const t = {
    columns: ['run', 'note', 'ppl'],
    rows: [
      ['#1', 'a,"b"', 12.5],
      ['#2', 'line\nbreak', null],
    ],
  };
  it('quotes CSV fields with commas, quotes and line breaks (RFC 4180), empty for null', () => {
    expect(toCsv(t)).toBe('run,note,ppl\r\n#1,"a,""b""",12.5\r\n#2,"line\nbreak",\r\n');
  });
  it('writes a GitHub table with escaped pipes and right-aligned value columns', () => {
    const md = toMarkdown({ columns: ['a', 'b'], rows: [['x|y', 1]] }, 'T');
    expect(md).toBe('## T\n\n| a | b |\n| --- | ---: |\n| x\\|y | 1 |\n');
  });
});

const PROTOCOL = { dataset: 'wikitext2', seqLen: 256, maxWindows: 16 };
const run = (
  id: number,
  metrics: Record<string, number>,
  layers: [number, number, number][],
  ratio = 0.2,
): RunDetail => ({
  id,
  kind: 'compress',
  status: 'succeeded',
  modelId: null,
  modelName: null,
  pipelineName: null,
  seed: null,
  backend: 'wasm',
  appVersion: '0',
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  finishedAt: null,
  seconds: 1,
  error: null,
  headline: {},
  config: {
    config: { name: `p${id}`, model: 'm', target: { ratio }, evaluate: { ppl: PROTOCOL } },
    outDir: `/o/${id}`,
  },
  metrics: Object.entries(metrics).map(([name, value]) => ({ name, value, dataset: null, unit: null })),
  layers: layers.map(([layer, rank, err]) => ({
    layer,
    stats: { rank, relError: { gate: err, up: err, down: err } },
    seconds: 1,
  })),
  artifacts: [],
});

describe('comparison tables', () => {
  const a = run(1, { ppl: 10, paramsAfter: 100, tokensPerSecond: 50 }, [
    [0, 8, 0.1],
    [1, 8, 0.2],
  ]);
  const b = run(
    2,
    { ppl: 12, paramsAfter: 80, tokensPerSecond: 40 },
    [
      [0, 4, 0.2],
      [1, 4, 0.3],
    ],
    0.4,
  );

  it('relative delta is (v − base)/|base|, null without a usable baseline', () => {
    expect(relativeDelta(12, 10)).toBeCloseTo(0.2);
    expect(relativeDelta(12, 0)).toBeNull();
    expect(relativeDelta(null, 10)).toBeNull();
  });

  it('metrics rows carry values and deltas against the baseline, by the contract metric names', () => {
    const t = metricsTable([a, b], 1);
    const col = (name: string) => t.columns.indexOf(name);
    expect(t.rows[1]![col('ppl')]).toBe(12);
    expect(t.rows[1]![col('ppl_delta')]).toBeCloseTo(0.2);
    expect(t.rows[1]![col('paramsAfter_delta')]).toBeCloseTo(-0.2);
    expect(t.rows[0]![col('ppl_delta')]).toBe(0);
    expect(t.rows[1]![col('targetRatio')]).toBe(0.4); // from the config when not recorded
    expect(t.rows[0]![col('baseline')]).toBe('yes');
  });

  it('config diff lists the pipeline paths that differ (not job plumbing like outDir); per-layer deltas compare error to the baseline', () => {
    expect(configDiffTable([a, b]).rows).toEqual([
      ['name', 'p1', 'p2'],
      ['target.ratio', '0.2', '0.4'],
    ]);
    const l = layerDeltaTable([a, b], 1);
    expect(l.columns).toEqual([
      'layer',
      '#1 p1 rank',
      '#1 p1 rel. error',
      '#2 p2 rank',
      '#2 p2 rel. error',
      '#2 p2 Δ error',
    ]);
    expect(l.rows[0]!.slice(0, 5).map((v) => Number((v as number).toFixed(9)))).toEqual([0, 8, 0.1, 4, 0.2]);
    expect(l.rows[0]![5]).toBeCloseTo(1);
    expect(l.rows[1]![5]).toBeCloseTo(0.5);
  });
});
