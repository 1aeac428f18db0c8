// The sweep page's view model: surfaces → grids (simplex per ratio, order sensitivity, best strategy),
// grid → cell geometry and colours, the colour domains, and the CSV every surface exports (parsed
// back to the exact stored numbers). Also the sweep report built from the same layout.
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/app/report/csv';
import { renderSweepReport } from '../../src-main/app/report/sweep-report';
import {
  bestOfTable,
  betterOf,
  gridDomain,
  gridTable,
  orderSensitivityGrids,
  simplexGrids,
  strategyRows,
  strategyTable,
  sweepMetrics,
  tableCsv,
} from '../../src-main/contract/sweep-grid';
import { type SurfacePoint, sweepSurfaces } from '../../src-main/contract/sweep-surfaces';
import type { SweepView } from '../../src-main/contract/sweeps';
import {
  CELL_H,
  CELL_W,
  LEFT,
  layoutGrid,
  progressFraction,
  TOP,
} from '../../src-renderer/src/sweeps/surface-layout';

// the pmd-balance grid (step 0.25) at two ratios, with values that do not print short (thirds)
let run = 100;
const pts: SurfacePoint[] = [];
const add = (ratio: number, order: string[], contributions: Record<string, number>, ppl: number) =>
  pts.push({
    hash: `h${run}`,
    ratio,
    order,
    contributions,
    status: 'succeeded',
    runId: run++,
    metrics: { ppl, 'ppl@wikitext2': ppl },
  });
for (const r of [0.2, 0.4]) {
  const k = r === 0.2 ? 1 : 2;
  add(r, ['P'], { P: 1 }, 30 * k + 1 / 3);
  add(r, ['M'], { M: 1 }, 31 * k);
  add(r, ['D'], { D: 1 }, 25 * k + 1 / 7);
  for (const c of [0.25, 0.5, 0.75]) {
    add(r, ['P', 'D'], { P: c, D: 1 - c }, 20 * k + c);
    add(r, ['D', 'P'], { P: c, D: 1 - c }, 20 * k + 2 * c);
    add(r, ['M', 'D'], { M: c, D: 1 - c }, 22 * k + c / 3);
    add(r, ['D', 'M'], { M: c, D: 1 - c }, 22 * k - c / 3);
  }
  for (const [p, m] of [
    [0.25, 0.25],
    [0.25, 0.5],
    [0.5, 0.25],
  ] as const)
    add(r, ['P', 'M', 'D'], { P: p, M: m, D: 1 - p - m }, 19 * k + p - m / 10);
}
// a failed point and one without the metric are not on any surface
pts.push({
  hash: 'fail',
  ratio: 0.2,
  order: ['P', 'D'],
  contributions: { P: 0.1, D: 0.9 },
  status: 'failed',
  runId: null,
  metrics: {},
});
pts.push({
  hash: 'nometric',
  ratio: 0.2,
  order: ['D'],
  contributions: { D: 1 },
  status: 'succeeded',
  runId: 999,
  metrics: { acc: 0.5 },
});

const s = sweepSurfaces(pts, 'ppl');

describe('sweep surfaces → grids', () => {
  it('one singles row, one order × share grid per pair of families, one triangle per triple order', () => {
    const grids = simplexGrids(s, 0.2);
    expect(grids.map((g) => [g.kind, g.id])).toEqual([
      ['simplex-single', 'simplex-r0.2-single'],
      ['simplex-pair', 'simplex-r0.2-P-D'],
      ['simplex-pair', 'simplex-r0.2-M-D'],
      ['simplex-triple', 'simplex-r0.2-P-M-D'],
    ]);
    const [single, pd, , tri] = grids as [
      (typeof grids)[0],
      (typeof grids)[0],
      (typeof grids)[0],
      (typeof grids)[0],
    ];
    expect(single.cols).toEqual(['P', 'M', 'D']);
    expect(pd.rows).toEqual(['P→D', 'D→P']);
    expect(pd.cols).toEqual(['0.25', '0.5', '0.75']);
    expect(pd.cells).toHaveLength(6);
    // every cell sits where its order and c_P say, and carries its run and exact value
    for (const c of pd.cells) {
      const p = pts.find((x) => x.runId === c.runId)!;
      expect(pd.rows[c.row]).toBe(p.order.join('→'));
      expect(Number(pd.cols[c.col])).toBe(p.contributions.P);
      expect(c.value).toBe(p.metrics.ppl);
    }
    // the triangle: c_P rows high → low, c_M columns; (0.5, 0.5) is outside the simplex
    expect(tri.rows).toEqual(['0.5', '0.25']);
    expect(tri.cols).toEqual(['0.25', '0.5']);
    expect(tri.cells.map((c) => `${c.row},${c.col}`).sort()).toEqual(['0,0', '1,0', '1,1']);
    expect(tri.note).toContain('c_D = 1 − c_P − c_M');
  });

  it('order sensitivity is forward − backward at the same shares, per ratio × share, diverging', () => {
    const [pd, md] = orderSensitivityGrids(s);
    expect(pd!.title).toBe('P→D − D→P');
    expect(md!.title).toBe('M→D − D→M');
    expect(pd!.rows).toEqual(['0.2', '0.4']);
    expect(pd!.cells).toHaveLength(6);
    for (const c of pd!.cells) {
      const cp = Number(pd!.cols[c.col]);
      // (20k + c) − (20k + 2c) = −c exactly as the two stored values subtract
      expect(c.value).toBe((c.fields.ppl_forward as number) - (c.fields.ppl_backward as number));
      expect(c.value).toBeCloseTo(-cp, 12);
      expect(pts.find((p) => p.runId === c.runId)!.order).toEqual(['P', 'D']);
      expect(pts.find((p) => p.runId === c.otherRunId)!.order).toEqual(['D', 'P']);
    }
    expect(pd!.scale).toBe('diverging');
    expect(pd!.note).toContain('negative means P→D is better');
    expect(orderSensitivityGrids(s, 'higher')[0]!.note).toContain('positive means P→D is better');
  });

  it('the best strategy per level lists its steps in execution order with shares summing to 1', () => {
    const rows = strategyRows(s);
    expect(rows.map((r) => [r.ratio, r.order])).toEqual([
      [0.2, 'P→M→D'],
      [0.4, 'P→M→D'],
    ]);
    for (const r of rows) {
      expect(r.segments.map((x) => x.family).join('→')).toBe(r.order);
      expect(r.segments.reduce((a, x) => a + x.share, 0)).toBeCloseTo(1, 12);
    }
    // the winner at 0.2 is c_P 0.25, c_M 0.5 (19 + 0.25 − 0.05)
    expect(rows[0]!.contributions).toEqual({ P: 0.25, M: 0.5, D: 0.25 });
  });

  it('metrics are those of succeeded points, perplexity first; direction per metric', () => {
    expect(sweepMetrics(pts)).toEqual(['ppl', 'acc', 'ppl@wikitext2']);
    expect(betterOf('ppl@wikitext2')).toBe('lower');
    expect(betterOf('acc@arc')).toBe('higher');
  });
});

describe('grid → layout and colours', () => {
  it('places each cell at its row and column without overlap; the best value is the bright end', () => {
    const pd = simplexGrids(s, 0.2)[1]!;
    const l = layoutGrid(pd, 'lower');
    const seen = new Set<string>();
    for (const c of l.cells) {
      expect(c.x).toBe(LEFT + c.col * CELL_W);
      expect(c.y).toBe(TOP + c.row * CELL_H);
      expect(c.w).toBeLessThan(CELL_W);
      seen.add(`${c.x},${c.y}`);
    }
    expect(seen.size).toBe(l.cells.length);
    expect(l.width).toBeGreaterThanOrEqual(LEFT + pd.cols.length * CELL_W);
    expect(l.height).toBeGreaterThanOrEqual(TOP + pd.rows.length * CELL_H);
    const vals = pd.cells.map((c) => c.value);
    const lo = l.cells.find((c) => c.value === Math.min(...vals))!;
    const hi = l.cells.find((c) => c.value === Math.max(...vals))!;
    expect(lo.fill).toBe('#fde725'); // lower is better: the minimum is yellow
    expect(hi.fill).toBe('#440154');
    expect(layoutGrid(pd, 'higher').cells.find((c) => c.value === Math.max(...vals))!.fill).toBe('#fde725');
    expect(l.domain).toEqual({ min: Math.min(...vals), max: Math.max(...vals) });
  });

  it('a diverging domain is symmetric around 0, which is drawn neutral', () => {
    const g = orderSensitivityGrids(s)[1]!; // M→D − D→M: values 2c/3, all positive
    const d = gridDomain(g)!;
    const m = Math.max(...g.cells.map((c) => Math.abs(c.value)));
    expect(d).toEqual({ min: -m, max: m });
    const zero = { ...g, cells: [{ ...g.cells[0]!, value: 0 }, ...g.cells] };
    expect(layoutGrid(zero).cells[0]!.fill).toBe('#f7f7f7');
    // positive = backward better for a lower-is-better metric: red end
    expect(layoutGrid(g).cells.find((c) => Math.abs(c.value) === m)!.fill).toBe('#b2182b');
    expect(gridDomain({ ...g, cells: [] })).toBeNull();
  });

  it('progress counts settled points over all points', () => {
    const p = {
      sweepId: 1,
      total: 8,
      succeeded: 3,
      failed: 1,
      refused: 1,
      cancelled: 1,
      running: 1,
      pending: 1,
      reused: 2,
    };
    expect(progressFraction(p)).toBe(6 / 8);
    expect(progressFraction({ ...p, total: 0 })).toBe(1);
  });
});

describe('surface CSV', () => {
  it('parses back to the exact stored values and run ids (full precision)', () => {
    const grids = [...simplexGrids(s, 0.2), ...simplexGrids(s, 0.4), ...orderSensitivityGrids(s)];
    for (const g of grids) {
      const t = gridTable(g);
      const rows = parseCsv(tableCsv(t));
      expect(rows[0]).toEqual(t.columns);
      expect(rows).toHaveLength(g.cells.length + 1);
      g.cells.forEach((c, i) => {
        const back = Object.fromEntries(rows[0]!.map((k, j) => [k, rows[i + 1]![j]!]));
        for (const [k, v] of Object.entries(c.fields)) {
          if (typeof v === 'number') expect(Number(back[k])).toBe(v);
          else expect(back[k]).toBe(v === null ? '' : v);
        }
      });
    }
    const best = parseCsv(tableCsv(bestOfTable(s)));
    expect(best[0]).toEqual(expect.arrayContaining(['ratio', 'size', 'order', 'ppl', 'run']));
    const strat = parseCsv(tableCsv(strategyTable(s)));
    expect(Number(strat[1]![strat[0]!.indexOf('ppl')])).toBe(s.bestStrategy[0]!.value);
  });

  it('quotes fields with commas, quotes and newlines', () => {
    const t = { columns: ['a', 'b'], rows: [['x,"y"\nz', 0.1 + 0.2]] };
    expect(parseCsv(tableCsv(t))).toEqual([
      ['a', 'b'],
      ['x,"y"\nz', String(0.1 + 0.2)],
    ]);
  });
});

describe('sweep report', () => {
  const view = {
    sweep: {
      id: 7,
      name: 'pmd <balance>',
      spec: {},
      status: 'succeeded',
      mode: 'redis',
      ownerPid: null,
      cancelRequested: false,
      createdAt: '2026-01-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      seconds: 12.5,
    },
    interrupted: false,
    progress: {
      sweepId: 7,
      total: pts.length,
      succeeded: pts.length - 1,
      failed: 1,
      refused: 0,
      cancelled: 0,
      running: 0,
      pending: 0,
      reused: 0,
    },
    points: pts.map((p, i) => ({
      id: i + 1,
      sweepId: 7,
      index: i,
      hash: p.hash,
      label: p.hash,
      ratio: p.ratio,
      contributions: p.contributions,
      order: p.order,
      params: {},
      config: {},
      status: p.status as 'succeeded',
      runId: p.runId,
      reused: false,
      attempts: 1,
      worker: null,
      error: null,
      seconds: 1,
      metrics: p.metrics,
    })),
  } satisfies SweepView;

  it('HTML: every section, the surfaces as inline SVG, escaped, no script', () => {
    const html = renderSweepReport(view, 'html', { now: new Date(0) }).content;
    for (const id of ['summary', 'simplex', 'order', 'best-of', 'best-strategy'])
      expect(html).toContain(`<section id="${id}">`);
    // 2 ratios × (single + 2 pairs + 1 triple) + 2 order grids + best-of + best-strategy
    expect(html.match(/<svg /g)).toHaveLength(2 * 4 + 2 + 2);
    expect(html).toContain('pmd &lt;balance&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('P→D − D→P');
  });

  it('CSV: one long table whose numbers are the stored ones; unknown metric is refused', () => {
    const r = renderSweepReport(view, 'csv', { metric: 'ppl' });
    expect(r.filename).toBe('report-sweep-7-ppl.csv');
    const rows = parseCsv(r.content);
    const col = (name: string) => rows[0]!.indexOf(name);
    const simplexRows = rows.slice(1).filter((x) => x[col('surface')]!.startsWith('simplex-'));
    expect(simplexRows).toHaveLength(pts.length - 2);
    for (const x of simplexRows) {
      const p = pts.find((q) => q.runId === Number(x[col('run')]))!;
      expect(Number(x[col('ppl')])).toBe(p.metrics.ppl);
    }
    expect(() => renderSweepReport(view, 'csv', { metric: 'bleu' })).toThrow(/no metric 'bleu'.*ppl/);
    expect(renderSweepReport(view, 'md').content).toContain('## Best strategy per compression level');
  });
});
