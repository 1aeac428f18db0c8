import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunDetail, RunSummary } from '../../src-main/contract/index';
import { openStore, type Store } from '../../src-main/store/index';

let dir: string;
let s: Store;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-repos-'));
  s = openStore(path.join(dir, 'w.sqlite'));
});
afterEach(() => {
  s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const count = (table: string) =>
  (s.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('models, datasets, pipelines', () => {
  it('models: add, unique path, summary round trip, remove', () => {
    const m = s.models.add({
      name: 'olmoe',
      path: '/m/olmoe',
      architecture: 'olmoe',
      summary: { experts: 64 },
    });
    expect(m).toMatchObject({ name: 'olmoe', builtin: false, summary: { experts: 64 } });
    expect(() => s.models.add({ name: 'dup', path: '/m/olmoe' })).toThrow(/UNIQUE/);
    s.models.setSummary(m.id, 'olmoe', { experts: 64, layers: 16 });
    expect(s.models.findByPath('/m/olmoe')!.summary).toEqual({ experts: 64, layers: 16 });
    expect(s.models.remove(m.id)).toBe(true);
    expect(s.models.remove(m.id)).toBe(false);
  });

  it('datasets: builtin first, format is checked', () => {
    s.datasets.add({ name: 'zeta', path: '/d/z.txt', format: 'text' });
    s.datasets.add({ name: 'wiki', path: 'builtin:wiki', format: 'builtin', builtin: true });
    expect(s.datasets.list().map((d) => d.name)).toEqual(['wiki', 'zeta']);
    expect(() => s.datasets.add({ name: 'x', path: '/x', format: 'csv' as never })).toThrow(/CHECK/);
  });

  it('pipelines: create then update keeps created_at and changes config', () => {
    const p = s.pipelines.create('prune-25', { steps: [{ method: 'prune', ratio: 0.25 }] });
    const u = s.pipelines.update(p.id, 'prune-25', { steps: [] })!;
    expect(u.createdAt).toBe(p.createdAt);
    expect(u.config).toEqual({ steps: [] });
    expect(s.pipelines.update(999, 'x', {})).toBeNull();
  });
});

describe('runs', () => {
  it('goes queued -> running -> final with wall time, and a final state is not overwritten', () => {
    const r = s.runs.create({ kind: 'compress', config: { a: 1 }, appVersion: '0.1.0', seed: 7 });
    expect(r.status).toBe('queued');
    s.runs.markRunning(r.id);
    expect(s.runs.get(r.id)!.startedAt).not.toBeNull();
    s.runs.finish(r.id, 'failed', 'out of memory');
    const f = s.runs.get(r.id)!;
    expect(f).toMatchObject({ status: 'failed', error: 'out of memory', seed: 7 });
    expect(f.seconds).toBeGreaterThanOrEqual(0);
    s.runs.finish(r.id, 'succeeded');
    expect(s.runs.get(r.id)!.status).toBe('failed');
    expect(RunSummary.safeParse(f).success).toBe(true);
  });

  it('records layers (upsert per layer), metrics, artifacts; headline follows the metric flag', () => {
    const r = s.runs.create({ kind: 'compress', config: {}, appVersion: '0.1.0' });
    s.runs.recordLayer(r.id, 0, { rank: 8 }, 1.5);
    s.runs.recordLayer(r.id, 2, { rank: 4 }, 1.0);
    s.runs.recordLayer(r.id, 0, { rank: 16 }, 2.0);
    expect(s.runs.lastFinishedLayer(r.id)).toBe(2);
    s.runs.recordMetric(r.id, { name: 'ppl', value: 9.5, dataset: 'wikitext', unit: null });
    s.runs.recordMetric(r.id, { name: 'ppl', value: 11, dataset: 'c4', unit: null });
    s.runs.recordMetric(r.id, { name: 'achievedRatio', value: 0.25, dataset: null, unit: null });
    s.runs.recordMetric(r.id, { name: 'gflops@256', value: 20, dataset: null, unit: 'GFLOP/s' });
    s.runs.recordMetric(r.id, { name: 'gflops@512', value: 21, dataset: null, unit: null, headline: true });
    s.runs.recordMetric(r.id, { name: 'paramsAfter', value: 1e6, dataset: null, unit: null });
    s.runs.recordMetric(r.id, {
      name: 'targetRatio',
      value: 0.3,
      dataset: null,
      unit: null,
      headline: false,
    });
    s.runs.recordArtifact(r.id, { path: '/o/report.html', kind: 'report', bytes: 100, sha256: 'ab' });
    const d = s.runs.detail(r.id)!;
    expect(RunDetail.safeParse(d).success).toBe(true);
    expect(d.layers).toEqual([
      { step: 0, layer: 0, stats: { rank: 16 }, seconds: 2 },
      { step: 0, layer: 2, stats: { rank: 4 }, seconds: 1 },
    ]);
    // default by name (ppl, achievedRatio, paramsAfter), explicit flag either way, first value wins
    expect(d.headline).toEqual({ ppl: 9.5, achievedRatio: 0.25, 'gflops@512': 21, paramsAfter: 1e6 });
    expect(s.runs.list()[0]!.headline).toEqual(d.headline);
    expect(d.metrics.map((m) => m.name)).toEqual([
      'ppl',
      'ppl',
      'achievedRatio',
      'gflops@256',
      'gflops@512',
      'paramsAfter',
      'targetRatio',
    ]);
    expect(d.metrics.filter((m) => m.headline).length).toBe(5);
    // the contract's vocabulary sets the unit of a name it knows; other names keep the recorded one
    expect(Object.fromEntries(d.metrics.map((m) => [m.name, m.unit]))).toEqual({
      ppl: null,
      achievedRatio: 'ratio',
      'gflops@256': 'GFLOP/s',
      'gflops@512': 'GFLOP/s',
      paramsAfter: 'params',
      targetRatio: 'ratio',
    });
    expect(d.artifacts).toHaveLength(1);
  });

  it('deleting a run cascades to its records; deleting its model keeps the run', () => {
    const m = s.models.add({ name: 'm', path: '/m' });
    const p = s.pipelines.create('p', {});
    const r = s.runs.create({
      kind: 'compress',
      config: {},
      appVersion: '0.1.0',
      modelId: m.id,
      pipelineId: p.id,
    });
    expect(s.runs.get(r.id)).toMatchObject({ modelName: 'm', pipelineName: 'p' });
    s.runs.recordLayer(r.id, 0, {}, null);
    s.runs.recordMetric(r.id, { name: 'ppl', value: 1, dataset: null, unit: null });
    s.runs.recordArtifact(r.id, { path: '/a', kind: 'k', bytes: 1, sha256: 's' });
    s.models.remove(m.id);
    expect(s.runs.get(r.id)).toMatchObject({ modelId: null, modelName: null });
    expect(s.runs.remove(r.id)).toBe(true);
    expect([count('run_layers'), count('metrics'), count('artifacts')]).toEqual([0, 0, 0]);
  });

  it('rejects records for a run that does not exist (foreign keys are on)', () => {
    expect(() => s.runs.recordMetric(404, { name: 'x', value: 1, dataset: null, unit: null })).toThrow(
      /FOREIGN KEY/,
    );
  });

  it('lists newest first with status filter, limit and offset', () => {
    const ids = [1, 2, 3, 4, 5].map(() => s.runs.create({ kind: 'k', config: {}, appVersion: '1' }).id);
    s.runs.markRunning(ids[1]!);
    s.runs.finish(ids[1]!, 'succeeded');
    s.runs.markRunning(ids[3]!);
    s.runs.finish(ids[3]!, 'succeeded');
    expect(s.runs.list().map((r) => r.id)).toEqual([...ids].reverse());
    expect(s.runs.list({ status: 'succeeded' }).map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect(s.runs.list({ limit: 2, offset: 1 }).map((r) => r.id)).toEqual([ids[3], ids[2]]);
  });

  it('lists runs with their metrics (first value per name) and configs, filtered by kind before the limit', () => {
    const a = s.runs.create({ kind: 'compress', config: { config: { name: 'p' } }, appVersion: '1' });
    const b = s.runs.create({ kind: 'eval.ppl', config: {}, appVersion: '1' });
    const c = s.runs.create({ kind: 'compress', config: {}, appVersion: '1' });
    s.runs.recordMetric(a.id, { name: 'ppl', value: 9, dataset: 'x', unit: null });
    s.runs.recordMetric(a.id, { name: 'ppl', value: 11, dataset: 'y', unit: null });
    s.runs.recordMetric(b.id, { name: 'ppl', value: 5, dataset: null, unit: null });
    s.db.prepare("UPDATE runs SET config_json = '{not json' WHERE id = ?").run(c.id);
    const rows = s.runs.listWithRecords({ kind: 'compress' });
    expect(rows.map((r) => [r.summary.id, r.metrics, r.config])).toEqual([
      [c.id, {}, null],
      [a.id, { ppl: 9 }, { config: { name: 'p' } }],
    ]);
    expect(s.runs.listWithRecords({ kind: 'compress', limit: 1 }).map((r) => r.summary.id)).toEqual([c.id]);
    expect(s.runs.listWithRecords({ kind: 'none' })).toEqual([]);
  });
});
