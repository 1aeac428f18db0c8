import { describe, expect, it } from 'vitest';
import {
  cellColor,
  domainOf,
  legendTicks,
  normalize,
  rampColor,
  textOn,
} from '../../src-renderer/src/heatmap/color-scale';
import { expertGrid, layerRows } from '../../src-renderer/src/runs/layer-stats';

describe('heatmap colour scale', () => {
  it('maps the ends of the ramp to the first and last stop and clamps outside [0, 1]', () => {
    expect(rampColor(0)).toBe('#440154');
    expect(rampColor(1)).toBe('#fde725');
    expect(rampColor(-3)).toBe('#440154');
    expect(rampColor(7)).toBe('#fde725');
    expect(rampColor(0.5, ['#000000', '#ffffff'])).toBe('#808080');
  });

  it('takes its domain from finite values only; missing values get no colour', () => {
    const d = domainOf([3, null, Number.NaN, -1, undefined, 5])!;
    expect(d).toEqual({ min: -1, max: 5 });
    expect(normalize(2, d)).toBeCloseTo(0.5);
    expect(cellColor(null, d)).toBeNull();
    expect(cellColor(5, d)).toBe('#fde725');
    expect(domainOf([null, Number.POSITIVE_INFINITY])).toBeNull();
  });

  it('a degenerate domain maps to the middle and has one legend tick', () => {
    const d = { min: 2, max: 2 };
    expect(normalize(2, d)).toBe(0.5);
    expect(legendTicks(d)).toEqual([2]);
    expect(legendTicks({ min: 0, max: 1 }, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('picks readable text on dark and light fills', () => {
    expect(textOn('#440154')).toBe('#fff');
    expect(textOn('#fde725')).toBe('#111');
  });
});

describe('per-layer records → grids', () => {
  const pe = (g: number) => ({
    gate: { relError: g, energyKept: 1 - g },
    up: { relError: g, energyKept: 1 - g },
    down: { relError: g, energyKept: 1 - g },
  });
  const records = [
    {
      layer: 0,
      seconds: 1,
      stats: {
        method: 'svd',
        rank: 22,
        tokens: [30, 0, 10, 0],
        relError: { gate: 0.1, up: 0.2, down: 0.3 },
        experts: [pe(0.1), pe(0.2), pe(0.3), pe(0.4)],
        sensitivity: 0.7,
      },
    },
    {
      layer: 3,
      seconds: null,
      stats: { method: 'moe-svd', rank: 10, tokens: [5, 5], gateSharedRelError: 0.5 },
    },
    { layer: 4, seconds: null, stats: {} },
  ];

  it('token share is tokens / layer total; zero-token experts are flagged; missing stays null', () => {
    const g = expertGrid(records);
    expect(g.layers).toEqual([0, 3, 4]);
    expect(g.experts).toBe(4);
    expect(g.values.tokenShare[0]).toEqual([0.75, 0, 0.25, 0]);
    expect(g.zeroTokens[0]).toEqual([false, true, false, true]);
    expect(g.values.tokenShare[1]).toEqual([0.5, 0.5, null, null]);
    expect(g.values.tokenShare[2]).toEqual([null, null, null, null]);
    expect(g.zeroTokens[2]).toEqual([false, false, false, false]);
    expect(g.values.relError[0]![2]).toBeCloseTo(0.3);
    expect(g.values.energyKept[0]![3]).toBeCloseTo(0.6);
    expect(g.values.relError[1]).toEqual([null, null, null, null]);
    expect(g.values.rank[0]).toEqual([22, 22, 22, 22]);
    expect(g.available).toEqual(['tokenShare', 'tokens', 'relError', 'energyKept', 'rank']);
  });

  it('layer rows read per-projection errors in either record shape and count idle experts', () => {
    const rows = layerRows(records);
    expect(rows[0]).toMatchObject({
      layer: 0,
      rank: 22,
      tokens: 40,
      zeroTokenExperts: 2,
      relErrorGate: 0.1,
      relErrorDown: 0.3,
      sensitivity: 0.7,
      seconds: 1,
    });
    expect(rows[0]!.relError).toBeCloseTo(0.2);
    expect(rows[1]).toMatchObject({
      method: 'moe-svd',
      relErrorGate: 0.5,
      relErrorUp: null,
      relError: 0.5,
      zeroTokenExperts: 0,
    });
    expect(rows[2]).toMatchObject({ rank: null, tokens: null, relError: null, sensitivity: null });
  });
});
