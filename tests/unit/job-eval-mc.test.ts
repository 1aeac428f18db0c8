// The eval.mc job on the task data bundled in resources/data: per-document log-likelihoods, acc /
// acc_norm that follow from them (lm-eval rules), WinoGrande without acc_norm, and the run metrics.
// Also: the bundled task files are the first documents of the full releases, and the task folders
// are never offered as perplexity data sets.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskDocs } from '../../src-main/engine/eval/mc/evaluate';
import { meanStderr, scoreDoc } from '../../src-main/engine/eval/mc/metrics';
import { findTaskFile, loadTaskData } from '../../src-main/engine/eval/mc/task-data';
import { MC_TASKS } from '../../src-main/engine/eval/mc/tasks';
import { scanDataRoot } from '../../src-main/engine/io/dataset-builtins';
import { run } from '../../src-main/engine/jobs/eval-mc';
import type { JobContext } from '../../src-main/engine/jobs/job-context';
import { JOBS } from '../../src-main/engine/jobs/registry';
import { initBackend } from '../../src-main/engine/tensor/backend';

const ROOT = path.resolve(__dirname, '../..');
const DATA = path.join(ROOT, 'resources/data');
const SHARED = path.resolve(ROOT, '../shared/data');
const MODEL = path.join(ROOT, 'resources/models/tiny-mixtral');

beforeAll(async () => {
  await initBackend();
});

describe('bundled task data', () => {
  it('every task resolves from resources/data alone, and its folder is not a perplexity data set', () => {
    for (const t of MC_TASKS) {
      const d = loadTaskData(t, [DATA]);
      expect(d.docs.length).toBeGreaterThanOrEqual(500);
      expect(fs.existsSync(path.join(DATA, t, 'NOTICE.md'))).toBe(true);
      // every document builds (gold inside the choices, the MathQA options parse into 5 choices)
      const docs = taskDocs(t, d.docs as never);
      expect(docs.filter((x) => x.gold < 0)).toEqual([]);
    }
    const names = scanDataRoot(DATA).map((d) => d.name);
    for (const t of MC_TASKS) expect(names.some((n) => n === t || n.startsWith(`${t}/`))).toBe(false);
  });

  it.skipIf(!fs.existsSync(SHARED))(
    'the bundled documents are the first ones of the full sets, which win',
    () => {
      for (const t of MC_TASKS) {
        const full = loadTaskData(t, [SHARED]);
        const mine = loadTaskData(t, [DATA]);
        expect(full.total).toBeGreaterThanOrEqual(mine.total);
        // the same requests (the bundled MathQA keeps only the fields lm-eval reads)
        expect(taskDocs(t, full.docs.slice(0, mine.docs.length) as never)).toEqual(
          taskDocs(t, mine.docs as never),
        );
        // both roots given: the full release is read, whatever the root order
        expect(loadTaskData(t, [DATA, SHARED]).total).toBe(full.total);
        expect(findTaskFile(t, [DATA, SHARED]).spec.file.includes('first1000')).toBe(false);
      }
    },
  );
});

function fakeCtx(
  metrics: { name: string; value: number; dataset?: string | null; headline?: boolean }[],
): JobContext {
  return {
    jobId: 'j',
    runId: 3,
    backend: 'wasm',
    resumeFrom: null,
    signal: new AbortController().signal,
    throwIfCancelled() {},
    progress() {},
    record: { layer() {}, artifact() {}, metric: (name, value, o) => metrics.push({ name, value, ...o }) },
  };
}

it('scores documents: acc / acc_norm / stderr follow from the log-likelihoods; WinoGrande acc only', async () => {
  const params = JOBS.get('eval.mc')!.params.parse({
    model: MODEL,
    tasks: ['openbookqa', 'winogrande'],
    limit: 4,
    dataDirs: [DATA],
  });
  const metrics: { name: string; value: number; dataset?: string | null; headline?: boolean }[] = [];
  const r = await run(fakeCtx(metrics), params as never);
  expect(r.maxLength).toBe(2048);
  const [obqa, wg] = r.results;
  expect([obqa!.task, obqa!.n, obqa!.total, wg!.task, wg!.n, wg!.total]).toEqual([
    'openbookqa',
    4,
    500,
    'winogrande',
    4,
    1267,
  ]);
  const docs = taskDocs('openbookqa', loadTaskData('openbookqa', [DATA], 4).docs);
  const scores = obqa!.docs.map((d, i) => {
    expect(d.logliks).toHaveLength(4);
    expect(d.logliks.every((v) => Number.isFinite(v) && v < 0)).toBe(true);
    expect(d.gold).toBe(docs[i]!.gold);
    return scoreDoc(d.logliks, docs[i]!.choices, d.gold);
  });
  expect(obqa!.acc).toBeCloseTo(scores.reduce((s, x) => s + x.acc, 0) / 4, 12);
  expect(obqa!.acc_norm).toBeCloseTo(scores.reduce((s, x) => s + x.accNorm, 0) / 4, 12);
  expect(obqa!.acc_stderr).toBe(meanStderr(scores.map((x) => x.acc)));
  expect(wg!.docs.every((d) => d.logliks.length === 2)).toBe(true);
  expect(wg!.acc_norm).toBeUndefined();
  expect(wg!.acc_norm_stderr).toBeUndefined();
  const byName = (n: string) => metrics.filter((m) => m.name === n).map((m) => [m.dataset, m.value]);
  expect(byName('acc')).toEqual([
    ['openbookqa', obqa!.acc],
    ['winogrande', wg!.acc],
  ]);
  expect(byName('accNorm')).toEqual([['openbookqa', obqa!.acc_norm]]);
  expect(metrics.find((m) => m.name === 'accAvg')).toMatchObject({
    value: (obqa!.acc + wg!.acc) / 2,
    headline: true,
  });
});

it('rejects an unknown task by name', () => {
  const r = JOBS.get('eval.mc')!.params.safeParse({ model: MODEL, tasks: ['boolq'] });
  expect(r.success).toBe(false);
  expect(JSON.stringify(r.error?.issues)).toMatch(/arc_easy/);
});
