// Reports (app/report/): the model (config diff, metric deltas, layer tables, analyses), and each
// format for one run and for a comparison: the CSV parses back to the stored numbers exactly, the
// Markdown has every section and table, the HTML is self-contained (no script, no external URL).
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/app/report/csv';
import { renderReport } from '../../src-main/app/report/index';
import { buildReport, flattenJson } from '../../src-main/app/report/report-model';
import { SECTIONS } from '../../src-main/app/report/report-text';
import type { RunDetail } from '../../src-main/contract/index';
import { analysisRuns, baselineRun, compressedRun } from '../support/report-runs';

const NOW = new Date('2026-12-02T12:00:00Z');

describe('report model', () => {
  it('flattens configs to dotted paths and drops the app-filled roots from the diff', () => {
    expect([...flattenJson({ a: { b: [1, { c: 'x' }] }, d: [] })]).toEqual([
      ['a.b.0', '1'],
      ['a.b.1.c', '"x"'],
      ['d', '[]'],
    ]);
    const m = buildReport([baselineRun()], { now: NOW });
    expect(m.config.map((c) => c.path)).not.toContain('modelDirs.0');
    expect(m.config.find((c) => c.path === 'promptLen')).toEqual({
      path: 'promptLen',
      values: ['512'],
      differs: false,
    });
  });

  it('comparison: deltas and relative change against the baseline, missing values stay missing', () => {
    const m = buildReport([baselineRun(), compressedRun()], { now: NOW });
    expect(m.baseline).toBe(0);
    const prefill = m.metrics.find((r) => r.name === 'prefillTokensPerSecond')!;
    expect(prefill).toMatchObject({
      label: 'Prefill tok/s',
      unit: 'tok/s',
      values: [180.25, 545.5],
      deltas: [null, 365.25],
    });
    expect(prefill.relative[1]).toBeCloseTo(545.5 / 180.25 - 1, 12);
    const w = m.metrics.find((r) => r.name === 'weightBytes')!;
    expect(w.values).toEqual([5646592, null]);
    expect(w.deltas).toEqual([null, null]);
    const ppl = m.metrics.find((r) => r.name === 'ppl' && r.dataset === 'wikitext2')!;
    expect(ppl.deltas[1]).toBeCloseTo(14.5 - 12.345678901234, 12);
    // baseline chosen explicitly
    const m2 = buildReport([baselineRun(), compressedRun()], { baselineId: 12, now: NOW });
    expect(m2.metrics.find((r) => r.name === 'prefillTokensPerSecond')!.deltas).toEqual([
      180.25 - 545.5,
      null,
    ]);
    expect(() => buildReport([baselineRun()], { baselineId: 99 })).toThrow(
      /baseline run 99 is not one of the report's runs \(11\)/,
    );
  });

  it('layer tables keep scalar stats (arrays left out), seconds as a column; analyses parse by kind', () => {
    const m = buildReport([compressedRun(), ...analysisRuns()], { now: NOW });
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0]).toMatchObject({ runId: 12, step: 0, columns: ['rank', 'energy', 'seconds'] });
    expect(m.layers[0]!.rows[2]).toEqual({ layer: 2, values: [18, 0.88, 3.5] });
    expect(m.analyses.map((a) => a.kind)).toEqual([
      'sensitivity',
      'routing',
      'similarity',
      'energy',
      'entropy',
    ]);
    expect(m.analyses[0]!.records).toHaveLength(4);
  });
});

function csvRows(text: string): Record<string, string>[] {
  const [head, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i] ?? ''])));
}

describe('CSV', () => {
  it('parses back to the same numbers, one run and a comparison', () => {
    for (const runs of [
      [baselineRun()],
      [baselineRun(), compressedRun(), ...analysisRuns()],
    ] as RunDetail[][]) {
      const rows = csvRows(renderReport(runs, 'csv', { now: NOW }).content);
      for (const run of runs) {
        for (const m of run.metrics) {
          const got = rows.filter(
            (r) =>
              r.section === 'metric' &&
              r.run === String(run.id) &&
              r.name === m.name &&
              r.dataset === (m.dataset ?? ''),
          );
          expect(got).toHaveLength(1);
          expect(Number(got[0]!.value)).toBe(m.value);
        }
        for (const l of run.kind.startsWith('analysis.') ? [] : run.layers)
          for (const [k, v] of Object.entries(l.stats)) {
            if (Array.isArray(v)) continue;
            const got = rows.find(
              (r) =>
                r.section === 'layer' &&
                r.run === String(run.id) &&
                r.layer === String(l.layer) &&
                r.name === k,
            )!;
            expect(typeof v === 'number' ? Number(got.value) : got.value).toBe(v);
          }
      }
      if (runs.length > 1) {
        const d = rows.find((r) => r.section === 'delta' && r.run === '12' && r.name === 'flopsPerToken')!;
        expect(Number(d.value)).toBe(2326528 - 2891776);
        const s = rows.filter((r) => r.section === 'analysis' && r.name === 'sensitivity.deltaPpl');
        expect(s.map((r) => [Number(r.layer), Number(r.value)])).toEqual([
          [0, 0],
          [1, 0.5],
          [2, 1],
          [3, 1.5],
        ]);
      }
    }
  });
});

describe('Markdown and HTML', () => {
  it('Markdown: every section, the metric table with a delta column in a comparison', () => {
    const one = renderReport([baselineRun()], 'md', { now: NOW }).content;
    const cmp = renderReport([baselineRun(), compressedRun(), ...analysisRuns()], 'md', { now: NOW }).content;
    for (const s of SECTIONS) {
      expect(one).toContain(`## ${s.title}`);
      expect(cmp).toContain(`## ${s.title}`);
    }
    expect(one).not.toContain('| Δ |');
    expect(cmp).toContain('| metric | dataset | run 11 | run 12 | Δ |');
    expect(cmp).toMatch(
      /\| Prefill tok\/s \| {2}\| 180 tok\/s \| 546 tok\/s \| \+365 tok\/s \(\+202\.6%\) \|/,
    );
    expect(cmp).toContain('### Per-layer sensitivity (run 21)');
    // a pipe inside a value does not break the table
    expect(renderReport([{ ...baselineRun(), config: { model: 'a|b' } }], 'md').content).toContain('"a\\|b"');
  });

  it('HTML: self-contained (no script, no external reference), every section, inline SVG charts', () => {
    for (const runs of [
      [baselineRun()],
      [baselineRun(), compressedRun(), ...analysisRuns()],
    ] as RunDetail[][]) {
      const html = renderReport(runs, 'html', { now: NOW }).content;
      expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|@import|url\(/i);
      expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
      for (const s of SECTIONS) expect(html).toContain(`<section id="${s.id}">`);
      expect(html).toContain("default-src 'none'");
      expect((html.match(/<svg /g) ?? []).length).toBeGreaterThan(runs.length > 1 ? 10 : 3);
    }
    const html = renderReport([{ ...baselineRun(), config: { model: '<b>x</b>' } }], 'html').content;
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
  });

  it('names the file after the runs and the format', () => {
    expect(renderReport([baselineRun(), compressedRun()], 'csv')).toMatchObject({
      filename: 'report-runs-11-12.csv',
      mime: 'text/csv;charset=utf-8',
    });
  });
});
