// The eval.ppl job: same numbers as the engine's perplexity() on the same tokens, recorded as the
// store's headline metrics (ppl per data set, tokensPerSecond, peakRssBytes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { perplexity } from '../../src-main/engine/eval/perplexity';
import { loadTokenizer } from '../../src-main/engine/io/tokenizer';
import { run } from '../../src-main/engine/jobs/eval-ppl';
import type { JobContext } from '../../src-main/engine/jobs/job-context';
import { JOBS } from '../../src-main/engine/jobs/registry';
import { openModel } from '../../src-main/engine/model/model';
import { initBackend } from '../../src-main/engine/tensor/backend';

const MODEL = path.resolve(__dirname, '../../resources/models/tiny-mixtral');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-evalppl-'));
const text = path.join(dir, 'sample.txt');
beforeAll(async () => {
  await initBackend();
  const held = fs.readFileSync(
    path.resolve(__dirname, '../../resources/data/heldout/c4-heldout.txt'),
    'utf8',
  );
  fs.writeFileSync(text, held.slice(0, 3000));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('records ppl per data set and throughput, equal to perplexity() on the same windows', async () => {
  const params = JOBS.get('eval.ppl')!.params.parse({
    model: MODEL,
    evaluations: [{ dataset: text, seqLen: 64, maxWindows: 3 }],
  });
  const metrics: { name: string; value: number; dataset?: string | null; headline?: boolean }[] = [];
  const ctx: JobContext = {
    jobId: 'j',
    runId: 7,
    backend: 'wasm',
    resumeFrom: null,
    signal: new AbortController().signal,
    throwIfCancelled() {},
    progress() {},
    record: { layer() {}, artifact() {}, metric: (name, value, o) => metrics.push({ name, value, ...o }) },
  };
  const r = await run(ctx, params as never);
  const model = openModel(MODEL);
  const tok = await loadTokenizer(MODEL);
  const ids = tok.encode(fs.readFileSync(text, 'utf8').split('\n').join('\n\n'));
  const want = await perplexity(model, ids, { seqLen: 64, maxWindows: 3 });
  model.checkpoint.close();
  expect(r.results).toHaveLength(1);
  expect(r.results[0]!.tokens).toBe(3 * 63);
  expect(r.results[0]!.ppl).toBeCloseTo(want.ppl, 6);
  const byName = new Map(metrics.map((m) => [m.name, m]));
  expect(byName.get('ppl')).toMatchObject({ value: r.results[0]!.ppl, dataset: text, headline: true });
  expect(byName.get('tokensPerSecond')!.value).toBeGreaterThan(0);
  expect(byName.get('peakRssBytes')!.value).toBeGreaterThan(0);
});

it('rejects an empty evaluation list', () => {
  expect(JOBS.get('eval.ppl')!.params.safeParse({ model: 'tiny-mixtral', evaluations: [] }).success).toBe(
    false,
  );
});
