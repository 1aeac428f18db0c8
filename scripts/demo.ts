// `npm run demo`: the first-run demo, headless. Through the app (createApp, the user's store) it runs,
// for each built-in model, a baseline perplexity run and low-rank decomposition pipelines at whole-model
// ratios 20 % and 40 %, every one stored as a run, then prints a results table.
// Compressed models: the compress job evaluates held-out perplexity on its in-memory factors; the
// export (dense, f32, in <home>/demo/) is then evaluated on WikiText-2 by an eval.ppl run.
import path from 'node:path';
import { Command } from 'commander';
import { createApp } from '../src-main/app/create-app';
import { formatCount, formatPercent } from '../src-main/contract/units';
import { runJob, runMetrics } from './app-jobs';

const o = new Command()
  .option('--home <dir>', 'app data folder (default: MOE_WORKBENCH_HOME or the app default)')
  .option('--models <list>', 'built-in models', 'tiny-mixtral,tiny-deepseek')
  .option('--methods <list>', 'decomposition methods: svd, asvd, svd-llm, moe-svd', 'svd-llm')
  .option('--ratios <list>', 'whole-model compression ratios', '0.2,0.4')
  .option('--windows <k>', 'evaluation windows of 512 tokens per data set', '48')
  .option('--calib-samples <n>', 'calibration sequences of 256 tokens from `calib`', '32')
  .parse()
  .opts<{
    home?: string;
    models: string;
    methods: string;
    ratios: string;
    windows: string;
    calibSamples: string;
  }>();

const SEQ = 512;
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const evaluations = ['heldout', 'wikitext2'].map((dataset) => ({
  dataset,
  seqLen: SEQ,
  maxWindows: Number(o.windows),
}));

interface Row {
  model: string;
  method: string;
  target: number | null;
  achieved: number | null;
  params: number | null;
  heldout: number | null;
  wikitext2: number | null;
  tokensPerSecond: number | null;
  seconds: number;
  runs: number[];
}

const t0 = performance.now();
const app = await createApp({ home: o.home, mode: 'cli' });
console.log(`store: ${app.storePath}`);

const job = (kind: string, params: Record<string, unknown>) => runJob(app, kind, params);
const metrics = (runId: number) => runMetrics(app, runId);

const rows: Row[] = [];
try {
  for (const model of list(o.models)) {
    const s = performance.now();
    const base = await job('eval.ppl', { model, evaluations });
    const bm = await metrics(base.runId!);
    rows.push({
      model,
      method: 'baseline',
      target: null,
      achieved: null,
      params: null,
      heldout: bm.get('ppl@heldout') ?? null,
      wikitext2: bm.get('ppl@wikitext2') ?? null,
      tokensPerSecond: bm.get('tokensPerSecond') ?? null,
      seconds: (performance.now() - s) / 1000,
      runs: [base.runId!],
    });
    console.log(`${model} baseline: run ${base.runId}`);
    for (const method of list(o.methods)) {
      for (const ratio of list(o.ratios).map(Number)) {
        const s1 = performance.now();
        const name = `demo ${model} ${method} ${Math.round(ratio * 100)}%`;
        const outDir = path.join(app.home, 'demo', `${model}-${method}-${Math.round(ratio * 100)}`);
        const config = {
          version: 1,
          name,
          model,
          calibration: { dataset: 'calib', samples: Number(o.calibSamples), seqLen: 256 },
          target: { ratio },
          steps: [{ method, params: {} }],
          evaluate: { ppl: evaluations[0] },
          export: { format: 'dense', dtype: 'F32' },
        };
        const c = await job('compress', { config, outDir });
        const cr = c.result as {
          achievedRatio: number;
          paramsBefore: number;
          paramsAfter: number;
          ppl?: number;
        };
        const cm = await metrics(c.runId!);
        const wt = await job('eval.ppl', { model: outDir, evaluations: [evaluations[1]] });
        const wm = await metrics(wt.runId!);
        if (rows.at(-1)?.method === 'baseline' && rows.at(-1)!.params === null)
          rows.at(-1)!.params = cr.paramsBefore;
        rows.push({
          model,
          method,
          target: ratio,
          achieved: cr.achievedRatio,
          params: cr.paramsAfter,
          heldout: cr.ppl ?? null,
          wikitext2: wm.get('ppl@wikitext2') ?? null,
          tokensPerSecond: cm.get('tokensPerSecond') ?? null,
          seconds: (performance.now() - s1) / 1000,
          runs: [c.runId!, wt.runId!],
        });
        console.log(`${name}: runs ${c.runId}, ${wt.runId}`);
      }
    }
  }
} finally {
  await app.close();
}

const f = (v: number | null, d: number) => (v === null ? '—' : v.toFixed(d));
const header = [
  'model',
  'method',
  'target',
  'achieved',
  'params',
  'held-out ppl',
  'wikitext2 ppl',
  'tok/s',
  's',
  'runs',
];
const body = rows.map((r) => [
  r.model,
  r.method,
  formatPercent(r.target, 0),
  formatPercent(r.achieved),
  formatCount(r.params),
  f(r.heldout, 2),
  f(r.wikitext2, 2),
  f(r.tokensPerSecond, 0),
  r.seconds.toFixed(0),
  r.runs.join(','),
]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(
  `\nperplexity: seq ${SEQ}, first ${o.windows} windows of heldout and wikitext2; calibration ${o.calibSamples} × 256 tokens of calib`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const b of body) console.log(line(b));
console.log(`\ndemo finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
