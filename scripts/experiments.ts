// `npx tsx scripts/experiments.ts --suite NAME [--home DIR]`: the experiment suites behind the issue
// notes, run through the app (createApp, the user's store) so every row is a stored run the
// workbench lists and compares. Each compressed run evaluates held-out and WikiText-2 perplexity on
// its in-memory result with the same protocol as the baseline rows (seq 512, first K windows).
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { createApp } from '../src-main/app/create-app';
import { runJob, runMetrics } from './app-jobs';

const o = new Command()
  .requiredOption(
    '--suite <name>',
    `one of: ${['pruning', 'order-pd', 'merge', 'order-m', 'd2moe'].join(', ')}`,
  )
  .option('--home <dir>', 'app data folder (default: MOE_WORKBENCH_HOME or the app default)')
  .option('--models <list>', 'built-in models', 'tiny-mixtral,tiny-deepseek')
  .option('--windows <k>', 'evaluation windows per data set', '16')
  .option('--seq <n>', 'tokens per evaluation window', '512')
  .option('--datasets <list>', 'evaluation data sets (the first is the primary ppl)', 'heldout,wikitext2')
  .option('--calib-samples <n>', 'calibration sequences of 256 tokens from `calib`', '32')
  .option('--only <regex>', 'run only experiments whose label matches')
  .option('--no-baseline', 'skip the uncompressed baseline row')
  .option('--ratios <list>', 'whole-model ratios of the d2moe suite and of the order-m M↔D rows', '0.4,0.6')
  .option('--json <file>', 'also write the rows as JSON')
  .option('--pm-ratio <r>', 'order-m suite: whole-model ratio of P→M vs M→P', '0.4')
  .option(
    '--merge-metrics <list>',
    'merge suite: similarity metrics to try (l2 is the reference default)',
    'l2',
  )
  .parse()
  .opts<{
    suite: string;
    home?: string;
    models: string;
    windows: string;
    seq: string;
    datasets: string;
    calibSamples: string;
    only?: string;
    baseline: boolean;
    ratios: string;
    json?: string;
    mergeMetrics: string;
    pmRatio: string;
  }>();

const SEQ = Number(o.seq);
const evaluations = o.datasets
  .split(',')
  .filter(Boolean)
  .map((dataset) => ({
    dataset,
    seqLen: SEQ,
    maxWindows: Number(o.windows),
  }));

interface Experiment {
  label: string;
  steps: { method: string; params: Record<string, unknown> }[];
  target?: { ratio: number; contributions?: Record<string, number> };
}

const METRICS = ['activation_frequency', 'sum_routing_weights', 'input_l2_avg', 'output_l2_avg', 'reap'];
const SUITES: Record<string, () => Experiment[]> = {
  // issue 12: D²-MoE (bases fisher / freq / mean, with and without ShareV, pp 10 % / 60 %) next to
  // SVD-LLM and MoE-SVD, at whole-model 40 % and 60 %
  // (ordered so that a time-limited run gets the base comparison and the baselines first)
  d2moe: () =>
    o.ratios
      .split(',')
      .map(Number)
      .flatMap((ratio) => {
        const d2 = (base: string, shareV: boolean, ppRatio: number) => ({
          label: `d2-moe ${base}${shareV ? ' shareV' : ''} pp${ppRatio * 100} ${ratio * 100}%`,
          steps: [{ method: 'd2-moe', params: { base, shareV, ppRatio } }],
          target: { ratio },
        });
        return [
          d2('fisher', false, 0.1),
          { label: `svd-llm ${ratio * 100}%`, steps: [{ method: 'svd-llm', params: {} }], target: { ratio } },
          { label: `moe-svd ${ratio * 100}%`, steps: [{ method: 'moe-svd', params: {} }], target: { ratio } },
          d2('freq', false, 0.1),
          d2('mean', false, 0.1),
          d2('fisher', true, 0.1),
          d2('fisher', false, 0.6),
          d2('mean', false, 0.6),
          d2('freq', false, 0.6),
          d2('mean', true, 0.1),
          d2('freq', true, 0.1),
          d2('fisher', true, 0.6),
          d2('mean', true, 0.6),
          d2('freq', true, 0.6),
        ];
      }),
  // issue 10: every P metric and Expert Drop at 25 / 50 % of routed experts; Layer / Block Drop of 1 and 2
  pruning: () => [
    ...METRICS.flatMap((metric) =>
      [0.25, 0.5].map((fraction) => ({
        label: `expert-prune ${metric} ${fraction * 100}%`,
        steps: [{ method: 'expert-prune', params: { metric, fraction } }],
      })),
    ),
    ...[0.25, 0.5].map((fraction) => ({
      label: `expert-drop ${fraction * 100}%`,
      steps: [{ method: 'expert-drop', params: { fraction } }],
    })),
    ...[1, 2].map((count) => ({
      label: `layer-drop ${count}`,
      steps: [{ method: 'layer-drop', params: { count } }],
    })),
    ...[1, 2].map((count) => ({
      label: `block-drop ${count}`,
      steps: [{ method: 'block-drop', params: { count } }],
    })),
  ],
  // issue 10: P→D vs D→P at whole-model 40 %, contributions 0.5 / 0.5
  'order-pd': () =>
    (['PD', 'DP'] as const).map((order) => ({
      label: `${order === 'PD' ? 'P→D' : 'D→P'} 40% (0.5/0.5)`,
      steps: [...order].map((f) =>
        f === 'P'
          ? { method: 'expert-prune', params: { metric: 'reap' } }
          : { method: 'svd-llm', params: {} },
      ),
      target: { ratio: 0.4, contributions: { P: 0.5, D: 0.5 } },
    })),
  // issue 11: merging to 75 % / 50 % of the routed experts, every grouping × similarity × metric, and HC-SMoE
  merge: () => [
    ...[0.75, 0.5].flatMap((fraction) => [
      ...(['dominant', 'global'] as const).flatMap((grouping) =>
        (['weight', 'router_logits', 'output'] as const).flatMap((similarity) =>
          o.mergeMetrics.split(',').map((metric) => ({
            label: `merge ${grouping} ${similarity} ${metric} ${fraction * 100}%`,
            steps: [{ method: 'expert-merge', params: { grouping, similarity, metric, fraction } }],
          })),
        ),
      ),
      {
        label: `merge hc-smoe ${fraction * 100}%`,
        steps: [{ method: 'expert-merge', params: { grouping: 'hc-smoe', fraction } }],
      },
    ]),
  ],
  // issue 11: M→D vs D→M (both factored-merge modes) at 40 / 60 % (0.5/0.5); P→M vs M→P at 40 %;
  // P→M→D at 40 % (0.3/0.3/0.4)
  'order-m': (): Experiment[] => {
    const prune = { method: 'expert-prune', params: { metric: 'reap' } };
    const merge = (factoredMerge: 'factors' | 'reconstruct' = 'factors') => ({
      method: 'expert-merge',
      params: { factoredMerge },
    });
    const lowrank = { method: 'svd-llm', params: {} };
    return [
      ...o.ratios
        .split(',')
        .map(Number)
        .flatMap((ratio) => [
          {
            label: `M→D ${ratio * 100}% (0.5/0.5)`,
            steps: [merge(), lowrank],
            target: { ratio, contributions: { M: 0.5, D: 0.5 } },
          },
          {
            label: `D→M factors ${ratio * 100}% (0.5/0.5)`,
            steps: [lowrank, merge('factors')],
            target: { ratio, contributions: { M: 0.5, D: 0.5 } },
          },
          {
            label: `D→M reconstruct ${ratio * 100}% (0.5/0.5)`,
            steps: [lowrank, merge('reconstruct')],
            target: { ratio, contributions: { M: 0.5, D: 0.5 } },
          },
        ]),
      ...[Number(o.pmRatio)].flatMap((ratio) => [
        {
          label: `P→M ${ratio * 100}% (0.5/0.5)`,
          steps: [prune, merge()],
          target: { ratio, contributions: { P: 0.5, M: 0.5 } },
        },
        {
          label: `M→P ${ratio * 100}% (0.5/0.5)`,
          steps: [merge(), prune],
          target: { ratio, contributions: { P: 0.5, M: 0.5 } },
        },
      ]),
      {
        label: 'P→M→D 40% (0.3/0.3/0.4)',
        steps: [prune, merge(), lowrank],
        target: { ratio: 0.4, contributions: { P: 0.3, M: 0.3, D: 0.4 } },
      },
    ];
  },
};

const suite = SUITES[o.suite];
if (!suite) throw new Error(`unknown suite '${o.suite}'; expected ${Object.keys(SUITES).join(', ')}`);
const only = o.only ? new RegExp(o.only) : null;

const t0 = performance.now();
const app = await createApp({ home: o.home, mode: 'cli' });
console.log(`store: ${app.storePath}`);

const job = (kind: string, params: Record<string, unknown>) => runJob(app, kind, params);
const metrics = (runId: number) => runMetrics(app, runId);

interface Row {
  model: string;
  label: string;
  knobs: string;
  achieved: number | null;
  params: number | null;
  heldout: number | null;
  wikitext2: number | null;
  tokensPerSecond: number | null;
  seconds: number;
  run: number;
}

const rows: Row[] = [];
try {
  for (const model of o.models.split(',').filter(Boolean)) {
    const s0 = performance.now();
    const base = o.baseline ? await job('eval.ppl', { model, evaluations }) : null;
    const bm = base ? await metrics(base.runId!) : new Map<string, number>();
    if (base)
      rows.push({
        model,
        label: 'baseline',
        knobs: '',
        achieved: null,
        params: null,
        heldout: bm.get('ppl@heldout') ?? null,
        wikitext2: bm.get('ppl@wikitext2') ?? null,
        tokensPerSecond: bm.get('tokensPerSecond') ?? null,
        seconds: (performance.now() - s0) / 1000,
        run: base!.runId!,
      });
    for (const e of suite()) {
      if (only && !only.test(e.label)) continue;
      const s = performance.now();
      const slug = `${model}-${e.label}`.replace(/[^\w.-]+/g, '-');
      const config = {
        version: 2,
        name: `${o.suite} ${model} ${e.label}`,
        model,
        calibration: { dataset: 'calib', samples: Number(o.calibSamples), seqLen: 256 },
        ...(e.target ? { target: e.target } : {}),
        steps: e.steps,
        evaluate: {
          ppl: evaluations[0],
          ...(evaluations.length > 1 ? { perplexity: evaluations.slice(1) } : {}),
        },
        export: { format: 'factored', dtype: 'F32' },
      };
      try {
        const c = await job('compress', { config, outDir: path.join(app.home, 'experiments', slug) });
        const r = c.result as {
          achievedRatio: number;
          paramsAfter: number;
          steps: { method: string; knobs: Record<string, number>; noop: boolean }[];
        };
        const m = await metrics(c.runId!);
        rows.push({
          model,
          label: e.label,
          knobs: r.steps
            .map((st) =>
              st.noop
                ? `${st.method}: no-op`
                : `${st.method}: ${Object.entries(st.knobs)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ')}`,
            )
            .join('; '),
          achieved: r.achievedRatio,
          params: r.paramsAfter,
          heldout: m.get('ppl@heldout') ?? null,
          wikitext2: m.get('ppl@wikitext2') ?? null,
          tokensPerSecond: m.get('tokensPerSecond') ?? null,
          seconds: (performance.now() - s) / 1000,
          run: c.runId!,
        });
        console.log(`${model} ${e.label}: run ${c.runId} (${((performance.now() - s) / 1000).toFixed(0)} s)`);
      } catch (err) {
        console.log(`${model} ${e.label}: FAILED ${(err as Error).message}`);
      }
    }
  }
} finally {
  await app.close();
}

const f = (v: number | null, d: number) => (v === null ? '—' : v.toFixed(d));
const header = [
  'model',
  'pipeline',
  'knobs',
  'achieved',
  'params',
  'held-out ppl',
  'wikitext2 ppl',
  'tok/s',
  's',
  'run',
];
const body = rows.map((r) => [
  r.model,
  r.label,
  r.knobs,
  r.achieved === null ? '—' : `${(r.achieved * 100).toFixed(1)}%`,
  r.params === null ? '—' : `${(r.params / 1e6).toFixed(2)} M`,
  f(r.heldout, 2),
  f(r.wikitext2, 2),
  f(r.tokensPerSecond, 0),
  r.seconds.toFixed(0),
  String(r.run),
]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(
  `\n${o.suite}: perplexity seq ${SEQ}, first ${o.windows} windows of ${o.datasets}; calibration ${o.calibSamples} × 256 tokens of calib`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const b of body) console.log(line(b));
console.log(`\n${o.suite} finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (o.json) fs.writeFileSync(o.json, JSON.stringify(rows, null, 2));
