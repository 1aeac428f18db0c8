// Comparable by construction: every run's evaluation protocol is data (read from its resolved
// config), the comparison withholds perplexity deltas across protocols, the matched baseline it
// offers lands in the same protocol, and the first-run baseline and new pipelines share one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunDetail } from '@contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_PPL_PROTOCOL,
  primaryPplProtocol,
  protocolKey,
  protocolText,
  runProtocols,
} from '../../src-main/contract/protocol';
import { EvalPplParams } from '../../src-main/engine/jobs/eval-ppl.params';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { openStore, type Store } from '../../src-main/store/index';
import { metricsTable } from '../../src-renderer/src/compare/comparison';
import { protocolMismatches } from '../../src-renderer/src/compare/protocol-match';
import { newPipelineConfig } from '../../src-renderer/src/pipeline/pipeline-nodes';

const evalConfig = (seqLen: number, maxWindows: number, dataset = 'wikitext2') =>
  EvalPplParams.parse({ model: 'tiny-mixtral', evaluations: [{ dataset, seqLen, maxWindows }] });
const compressConfig = (evaluate: Record<string, unknown>) => ({
  config: parsePipelineConfig({
    version: 2,
    name: 'svd-40',
    model: 'tiny-mixtral',
    target: { ratio: 0.4 },
    steps: [{ method: 'svd', params: {} }],
    evaluate,
  }),
  outDir: '/o',
});

const detail = (id: number, kind: string, config: unknown, ppl: number): RunDetail => ({
  id,
  kind,
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
  protocols: runProtocols(kind, config) as RunDetail['protocols'],
  config,
  metrics: [{ name: 'ppl', value: ppl, dataset: 'wikitext2', unit: null }],
  layers: [],
  artifacts: [],
});

describe('evaluation protocol', () => {
  it('reads dataset, split, seq len, windows and tokenizer from eval.ppl and compress configs alike', () => {
    const e = primaryPplProtocol('eval.ppl', evalConfig(256, 16))!;
    const c = primaryPplProtocol(
      'compress',
      compressConfig({ ppl: { dataset: 'wikitext2', seqLen: 256, maxWindows: 16 } }),
    )!;
    expect(e).toEqual({
      kind: 'ppl',
      source: 'dataset',
      dataset: 'wikitext2',
      split: 'test',
      seqLen: 256,
      maxWindows: 16,
      tokenizer: 'tiny-mixtral',
    });
    expect(protocolKey(c)).toBe(protocolKey(e));
    expect(protocolText(e)).toBe('wikitext2 (test) · seq 256 · ≤16 windows · tokenizer tiny-mixtral');
    // any one field apart is another protocol
    for (const other of [evalConfig(512, 16), evalConfig(256, 32), evalConfig(256, 16, 'heldout')])
      expect(protocolKey(primaryPplProtocol('eval.ppl', other)!)).not.toBe(protocolKey(e));
  });

  it('lists every evaluation in recording order: ppl, then perplexity[], then multiple choice', () => {
    const cfg = compressConfig({
      ppl: { dataset: 'wikitext2', seqLen: 256 },
      perplexity: [{ dataset: 'heldout', seqLen: 128, maxWindows: 4 }],
    });
    const ps = runProtocols('compress', cfg);
    expect(ps.map((p) => (p.kind === 'ppl' ? `${p.dataset}@${p.seqLen}/${p.maxWindows}` : p.kind))).toEqual([
      'wikitext2@256/null',
      'heldout@128/4',
    ]);
    expect(runProtocols('eval.mc', { model: 'm', tasks: ['arc_easy'], limit: 50 })).toEqual([
      { kind: 'mc', tasks: ['arc_easy'], limit: 50, tokenizer: 'm' },
    ]);
    expect(runProtocols('compress', { config: { steps: [] } })).toEqual([]);
  });

  it('the first-run baseline, a new pipeline and the example pipelines evaluate under one protocol', async () => {
    const { FIRST_RUN_MODEL } = await import('../../src-main/app/first-run');
    const first = primaryPplProtocol(
      'eval.ppl',
      EvalPplParams.parse({ model: FIRST_RUN_MODEL, evaluations: [{ ...DEFAULT_PPL_PROTOCOL }] }),
    )!;
    const fresh = primaryPplProtocol('compress', parsePipelineConfig(newPipelineConfig(FIRST_RUN_MODEL)))!;
    expect(protocolKey(fresh)).toBe(protocolKey(first));
    const src = fs.readFileSync(path.resolve(__dirname, '../../src-main/app/first-run.ts'), 'utf8');
    expect(src).toContain('evaluations: [{ ...DEFAULT_PPL_PROTOCOL }]');
    const dir = path.resolve(__dirname, '../../resources/pipelines');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'pipeline.schema.json')) {
      const cfg = parsePipelineConfig(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
      const p = primaryPplProtocol('compress', cfg);
      expect({ f, p: p && { ...p, tokenizer: null } }).toEqual({ f, p: { ...first, tokenizer: null } });
    }
  });
});

describe('comparison across protocols', () => {
  const compressed = detail(
    2,
    'compress',
    compressConfig({ ppl: { dataset: 'wikitext2', seqLen: 256, maxWindows: 16 } }),
    450,
  );
  const otherBaseline = detail(1, 'eval.ppl', evalConfig(512, 32, 'heldout'), 300);

  it('withholds perplexity deltas between runs evaluated differently, and says which protocol each used', () => {
    const t = metricsTable([otherBaseline, compressed], 1);
    const row = t.rows[1]!;
    const at = (c: string) => row[t.columns.indexOf(c)];
    expect(at('ppl')).toBe(450);
    expect(at('ppl_delta')).toBeNull();
    expect(at('tokensPerSecond_delta')).toBeNull();
    expect(at('protocol')).toBe('wikitext2 (test) · seq 256 · ≤16 windows · tokenizer tiny-mixtral');
    expect(t.rows[0]![t.columns.indexOf('protocol')]).toBe(
      'heldout (c4 held-out) · seq 512 · ≤32 windows · tokenizer tiny-mixtral',
    );
  });

  it('offers the matched baseline; stored as an eval.ppl run it shares the protocol and the delta is exact', () => {
    const [m] = protocolMismatches([otherBaseline, compressed], 1);
    expect(m!.runIds).toEqual([2]);
    expect(m!.matchedBaseline).toEqual({
      model: 'tiny-mixtral',
      evaluations: [{ dataset: 'wikitext2', seqLen: 256, maxWindows: 16 }],
    });
    // what the host stores is the parsed params: the same protocol by construction
    const matched = detail(3, 'eval.ppl', EvalPplParams.parse(m!.matchedBaseline), 420);
    expect(protocolMismatches([otherBaseline, compressed, matched], 3).map((x) => x.runIds)).toEqual([[1]]);
    const t = metricsTable([otherBaseline, compressed, matched], 3);
    expect(t.rows[1]![t.columns.indexOf('ppl_delta')]).toBeCloseTo((450 - 420) / 420, 6);
    expect(t.rows[0]![t.columns.indexOf('ppl_delta')]).toBeNull();
  });
});

describe('store: runs name their model, pipeline and protocol', () => {
  let dir: string;
  let s: Store;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-protocol-'));
    s = openStore(path.join(dir, 'store.db'));
  });
  afterEach(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a run started by reference lists its config model and pipeline name, and its protocols', () => {
    const cfg = compressConfig({ ppl: { dataset: 'wikitext2', seqLen: 256, maxWindows: 16 } });
    const r = s.runs.create({ kind: 'compress', config: cfg, appVersion: '0' });
    expect(s.runs.get(r.id)).toMatchObject({ modelName: 'tiny-mixtral', pipelineName: 'svd-40' });
    expect(s.runs.list()[0]!.protocols).toEqual(runProtocols('compress', cfg));
    const e = s.runs.create({ kind: 'eval.ppl', config: evalConfig(256, 16), appVersion: '0' });
    expect(s.runs.detail(e.id)).toMatchObject({ modelName: 'tiny-mixtral', pipelineName: null });
    // an unreadable config still lists
    s.db.prepare("UPDATE runs SET config_json = '{not json' WHERE id = ?").run(e.id);
    expect(s.runs.get(e.id)).toMatchObject({ modelName: null, protocols: [] });
  });
});

describe('the pipeline form names models as the README does', () => {
  const rec = (id: number, name: string, builtin: boolean) => ({
    id,
    name,
    path: `/res/${name}`,
    architecture: 'mixtral',
    builtin,
    summary: null,
    addedAt: '',
  });
  const models = [rec(1, 'tiny-deepseek', true), rec(2, 'tiny-mixtral', true), rec(3, 'mine', false)];

  it('a built-in named in the JSON is the chosen model; a user folder is named by its path', async () => {
    const { modelNamed, modelRef } = await import('../../src-renderer/src/pipeline/model-ref');
    expect(modelNamed(models, 'tiny-mixtral')?.id).toBe(2);
    expect(modelNamed(models, '/res/tiny-mixtral')?.id).toBe(2);
    expect(modelNamed(models, '/res/mine')?.id).toBe(3);
    expect(modelNamed(models, 'mine')).toBeUndefined();
    expect(models.map(modelRef)).toEqual(['tiny-deepseek', 'tiny-mixtral', '/res/mine']);
  });

  it('a new draft names tiny-mixtral (the README default and the first-run model), not the first alphabetically', async () => {
    const { DEFAULT_MODEL } = await import('../../src-renderer/src/pipeline/pipeline-nodes');
    const { FIRST_RUN_MODEL } = await import('../../src-main/app/first-run');
    expect(DEFAULT_MODEL).toBe('tiny-mixtral');
    expect(DEFAULT_MODEL).toBe(FIRST_RUN_MODEL);
    expect(newPipelineConfig(DEFAULT_MODEL).model).toBe('tiny-mixtral');
  });
});

describe('comparison cells in one unit system', () => {
  it('bytes in MiB/GiB, params in M, ratios in %, deltas signed; never a raw 5.75e+8', async () => {
    const { formatCompareCell, formattedTable } = await import('../../src-renderer/src/compare/cell-format');
    expect(formatCompareCell('peakRssBytes', 575e6)).toBe('548.4 MiB');
    expect(formatCompareCell('peakRssBytes', 5.75e9)).toBe('5.4 GiB');
    expect(formatCompareCell('paramsAfter', 2_258_048)).toBe('2.26M');
    expect(formatCompareCell('achievedRatio', 0.2002)).toBe('20.0%');
    expect(formatCompareCell('tokensPerSecond', 97.53)).toBe('97.5 tok/s');
    expect(formatCompareCell('ppl_delta', 0.0351)).toBe('+3.5%');
    expect(formatCompareCell('ppl_delta', null)).toBe('—');
    const t = formattedTable({ columns: ['run', 'peakRssBytes'], rows: [['#1', 575e6]] });
    expect(t.rows[0]).toEqual(['#1', '548.4 MiB']);
    expect(JSON.stringify(t)).not.toMatch(/e\+/);
  });
});

describe('chart axes', () => {
  it('ticks enclose the data (no clipped top tick) and no two labels are the same', async () => {
    const { niceTicks, tickFormatter } = await import('../../src-renderer/src/compare/axis-ticks');
    // five runs that kept nearly the same parameter count once printed "1.69M" five times
    const params = [1_690_112, 1_691_500, 1_692_004, 1_693_100, 1_694_000];
    const t = niceTicks(params);
    expect(t[0]!).toBeLessThanOrEqual(Math.min(...params));
    expect(t.at(-1)!).toBeGreaterThanOrEqual(Math.max(...params));
    const labels = t.map(tickFormatter(t, 'count'));
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels.every((l) => l.endsWith('M'))).toBe(true);
    const ppl = [259.4, 434.7];
    const pt = niceTicks(ppl);
    expect(pt.at(-1)!).toBeGreaterThanOrEqual(434.7);
    const bytes = niceTicks([262.6 * 2 ** 20, 509 * 2 ** 20]);
    expect(bytes.map(tickFormatter(bytes, 'bytes')).every((l) => l.endsWith(' MiB'))).toBe(true);
    expect(niceTicks([5, 5]).length).toBeGreaterThanOrEqual(2);
    expect(niceTicks([])).toEqual([]);
  });
});

describe('off-target runs say so', () => {
  it('a run with offTargetBy reads "achieved x for a y target"; an on-target run reads nothing', async () => {
    const { offTargetText, metricValues } = await import('../../src-renderer/src/runs/off-target');
    expect(offTargetText({ achievedRatio: 0.278, targetRatio: 0.4, offTargetBy: 0.122 })).toBe(
      'Off target: achieved 27.8% for a 40.0% target (off by 12.2%)',
    );
    expect(offTargetText({ achievedRatio: 0.4, targetRatio: 0.4 })).toBeNull();
    expect(
      metricValues([
        { name: 'offTargetBy', value: 0.1 },
        { name: 'offTargetBy', value: 0.2 },
      ]),
    ).toEqual({ offTargetBy: 0.1 });
  });
});

describe('validation problems, all of them, in plain sentences', () => {
  it('a config with three problems reports three, each with field, value and what is allowed', () => {
    const bad = {
      version: 2,
      name: 'bad',
      model: 'tiny-mixtral',
      target: { ratio: 1.5 },
      steps: [{ method: 'nope', params: {} }],
      evaluate: { ppl: { seqLen: 1 } },
    };
    let message = '';
    try {
      parsePipelineConfig(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('3 problems');
    expect(message).toContain('target.ratio: 1.5 is too large; at most 1 (exclusive)');
    expect(message).toContain('evaluate.ppl.seqLen: 1 is too small; at least 2');
    expect(message).toMatch(/steps\.0\.method: unknown method "nope"; allowed: svd, /);
    expect(message).not.toMatch(/Too big|Too small|Invalid discriminator/);
  });

  it('job params errors (CLI and UI jobs.start) are plain sentences too, every problem listed', async () => {
    const { plainIssue } = await import('../../src-main/engine/plain-issue');
    const r = EvalPplParams.safeParse({
      model: 'm',
      evaluations: [{ dataset: 'x', seqLen: 40000, maxWindows: 'many' }],
    });
    expect(r.success).toBe(false);
    const raw = { model: 'm', evaluations: [{ dataset: 'x', seqLen: 40000, maxWindows: 'many' }] };
    const lines = r.success ? [] : r.error.issues.map((i) => plainIssue(i, raw));
    expect(lines).toEqual([
      'evaluations.0.seqLen: 40000 is too large; at most 32768',
      'evaluations.0.maxWindows: expected a number, got "many"',
    ]);
  });
});
