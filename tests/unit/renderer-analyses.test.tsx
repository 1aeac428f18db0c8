// The analysis views render what the store holds: records of every kind are written to a real store,
// read back as the run page gets them (runs.detail layers), and rendered; the markup shows each
// layer's numbers, the heatmap cells and the charts. The form → job params mapping is checked too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ANALYSIS_KINDS,
  type AnalysisKind,
  type AnalysisRecord,
  AnalysisRecord as AnalysisRecordSchema,
} from '../../src-main/contract/analyses';
import { SensitivityAnalysisParams } from '../../src-main/engine/jobs/analysis.params';
import { openStore } from '../../src-main/store/index';
import { routingGrid, sensitivityRows } from '../../src-renderer/src/analyses/analysis-data';
import { analysisJobParams, DEFAULT_FORM } from '../../src-renderer/src/analyses/analysis-form';
import { AnalysisView } from '../../src-renderer/src/components/analyses/AnalysisView';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-analysis-view-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const curve = {
  mean: [0.6, 0.9, 1],
  min: [0.5, 0.8, 1],
  max: [0.7, 0.95, 1],
  rankAt: [
    [1, 1],
    [2, 2],
    [3, 3],
    [3, 3],
  ],
};
const RECORDS: Record<AnalysisKind, AnalysisRecord[]> = {
  sensitivity: [1, 2].map((layer) => ({
    analysis: 'sensitivity' as const,
    layer,
    method: 'svd-llm',
    ratio: 0.4,
    knobs: { rank: 38 },
    noop: false,
    paramsBefore: 1000,
    paramsAfter: 600,
    achievedRatio: 0.4,
    baselinePpl: 10,
    ppl: 10 + layer * 1.5,
    deltaPpl: layer * 1.5,
    relativeDelta: layer * 0.15,
    seconds: 1,
  })),
  routing: [0, 1].map((layer) => ({
    analysis: 'routing' as const,
    layer,
    tokens: 4,
    topK: 2,
    counts: [3, 5, 0],
    frequency: [0.75, 1.25, 0],
    minTokens: 1,
    covered: 2,
    coverage: 2 / 3,
  })),
  similarity: [
    {
      analysis: 'similarity' as const,
      layer: 3,
      experts: 2,
      weightCosine: [
        [1, 0.25],
        [0.25, 1],
      ],
      outputCka: [
        [1, 0.5],
        [0.5, 1],
      ],
      ckaTokens: 64,
    },
  ],
  energy: [
    {
      analysis: 'energy' as const,
      layer: 0,
      whitened: true,
      fallbackExperts: 0,
      fullRank: 3,
      ranks: [1, 2, 3],
      gate: curve,
      up: curve,
      down: curve,
    },
  ],
  entropy: [
    {
      analysis: 'entropy' as const,
      layer: 1,
      experts: 8,
      tokens: 100,
      meanTokenEntropy: 1.5,
      averageLoadEntropy: 2.05,
      selectionEntropy: 2.01,
      maxEntropy: Math.log(8),
    },
  ],
};

function stored(kind: AnalysisKind) {
  const store = openStore(path.join(dir, `${kind}.sqlite`));
  try {
    const run = store.runs.create({ kind: `analysis.${kind}`, config: {}, appVersion: 'test' });
    for (const r of RECORDS[kind]) {
      AnalysisRecordSchema.parse(r); // the fixtures are in the contract's shape
      store.runs.recordLayer(run.id, r.layer, r as unknown as Record<string, unknown>, 1, 0);
    }
    return store.runs.detail(run.id)!.layers;
  } finally {
    store.close();
  }
}

describe('analysis views render stored results', () => {
  it.each(ANALYSIS_KINDS)('%s', (kind) => {
    const html = renderToStaticMarkup(<AnalysisView kind={kind} layers={stored(kind)} />);
    expect(html).toContain(`data-testid="analysis-${kind}"`);
    expect(html).not.toContain('No layer results recorded');
    // heatmaps are our SVG; recharts draws its SVG only in a browser (a sized wrapper server-side)
    expect(html.includes('<svg') || html.includes('recharts-wrapper')).toBe(true);
    switch (kind) {
      case 'sensitivity':
        expect(html).toContain('rank 38');
        expect(html).toContain('13'); // ppl of layer 2
        expect(html).toContain('data-layer="2"');
        break;
      case 'routing':
        // 2 layers × 3 experts cells, the idle expert at 0 %
        expect(html.match(/data-cell=/g)).toHaveLength(6);
        expect(html).toContain('L1 · 2: 0');
        expect(html).toContain('2/3');
        break;
      case 'similarity':
        expect(html).toContain('data-testid="cosine-heatmap"');
        expect(html).toContain('data-testid="cka-heatmap"');
        expect(html).toContain('0 · 1: 0.500');
        break;
      case 'energy':
        expect(html).toContain('Energy vs rank, gate');
        expect(html).toContain('whitening');
        break;
      case 'entropy':
        expect(html).toContain(Math.log(8).toFixed(4));
        expect(html).toContain('1.5000');
        break;
    }
  });

  it('an empty or foreign record set says so', () => {
    const html = renderToStaticMarkup(
      <AnalysisView kind="routing" layers={[{ layer: 0, stats: { method: 'svd' } }]} />,
    );
    expect(html).toContain('No layer results recorded');
  });
});

describe('analysis view data', () => {
  it('ranks layers by perplexity increase and grids routing frequency', () => {
    const rows = sensitivityRows(RECORDS.sensitivity as never);
    expect(rows.map((r) => [r.layer, r.rank])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    const g = routingGrid(RECORDS.routing as never);
    expect(g.rowLabels).toEqual(['L0', 'L1']);
    expect(g.values[1]).toEqual([0.75, 1.25, 0]);
  });

  it('the start form makes params the job schema accepts', () => {
    const p = analysisJobParams(
      { ...DEFAULT_FORM, kind: 'sensitivity', layers: '1, 2', maxWindows: '4' },
      '/m',
    );
    const parsed = SensitivityAnalysisParams.parse(p);
    expect(parsed.layers).toEqual([1, 2]);
    expect(parsed.ratio).toBe(0.4);
    expect(parsed.evaluation).toEqual({ dataset: 'wikitext2', seqLen: 2048, maxWindows: 4 });
    expect(() => analysisJobParams({ ...DEFAULT_FORM, ratio: 'x', kind: 'sensitivity' }, '/m')).toThrow(
      /Ratio/,
    );
  });
});
