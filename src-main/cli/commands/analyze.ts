// moe-bench analyze <kind>: the sensitivity analyses (docs/analyses.md) as stored runs of kind
// `analysis.<kind>`. Flags map onto the job's params (engine/jobs/analysis.params.ts); `--params FILE`
// gives any of them as JSON (flags win). `--json` prints the job result: {runId, analysis, model,
// records: [one per layer, contract/analyses.ts], seconds, baselinePpl?}.
import path from 'node:path';
import type { Command } from 'commander';
import { ANALYSIS_KINDS, type AnalysisKind, type AnalysisRecord } from '../../contract/analyses';
import type { AnalysisResult } from '../../engine/jobs/analysis';
import { intList, nonNegativeInt, positiveInt, unitFraction } from '../arg-parsers';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';
import { cliRefs, runJob } from '../run-job';

interface AnalyzeOptions {
  model: string;
  params?: string;
  layers?: number[];
  calibDataset?: string;
  calibText?: string;
  calibSamples?: number;
  calibSeqLen?: number;
  calibBatch?: number;
  seed?: number;
  minTokens?: number;
  ckaTokens?: number;
  whitened?: boolean;
  method?: string;
  methodParams?: string;
  ratio?: number;
  dataset?: string;
  seqLen?: number;
  maxWindows?: number;
  dataDir: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];
const f = (v: number, d = 4) => v.toFixed(d);

function table(r: AnalysisResult<AnalysisRecord>): string {
  const lines = r.records.map((x) => {
    switch (x.analysis) {
      case 'sensitivity':
        return `layer ${x.layer}: ppl ${f(x.ppl)} (Δ ${x.deltaPpl >= 0 ? '+' : ''}${f(x.deltaPpl)}, ${f(100 * x.relativeDelta, 2)} %) ${Object.entries(
          x.knobs,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(' ')} achieved ${f(x.achievedRatio)}`;
      case 'routing':
        return `layer ${x.layer}: coverage ${x.covered}/${x.counts.length} (≥ ${x.minTokens} tokens), counts ${x.counts.join(' ')}`;
      case 'similarity': {
        const off = (m: number[][]) => {
          const v = m.flatMap((row, i) => row.filter((_, j) => j !== i));
          return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
        };
        return `layer ${x.layer}: mean off-diagonal weight cosine ${f(off(x.weightCosine))}, output CKA ${f(off(x.outputCka))} (${x.ckaTokens} tokens)`;
      }
      case 'energy':
        return `layer ${x.layer}: rank for 90 % energy (mean over experts) gate ${f(mean(x.gate.rankAt[1]!), 1)} up ${f(mean(x.up.rankAt[1]!), 1)} down ${f(mean(x.down.rankAt[1]!), 1)} of ${x.fullRank}${x.whitened ? ' (whitened)' : ''}`;
      default:
        return `layer ${x.layer}: token entropy ${f(x.meanTokenEntropy)}, average-load entropy ${f(x.averageLoadEntropy)}, selection entropy ${f(x.selectionEntropy)} (max ${f(x.maxEntropy)}) nats`;
    }
  });
  const head = `run ${r.runId ?? '-'}: ${r.analysis} of ${r.model}${r.baselinePpl !== undefined ? `, baseline ppl ${f(r.baselinePpl)}` : ''} in ${r.seconds.toFixed(1)} s`;
  return [head, ...lines].join('\n');
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The job params the flags stand for (kept apart so tests can check the mapping). */
export function analyzeParams(kind: AnalysisKind, o: AnalyzeOptions, file: unknown): Record<string, unknown> {
  const base = (file ?? {}) as Record<string, unknown>;
  if (typeof base !== 'object' || Array.isArray(base)) throw usageError('--params must hold a JSON object');
  if (o.calibDataset && o.calibText) throw usageError('give --calib-dataset or --calib-text, not both');
  const calibration: Record<string, unknown> = { ...((base.calibration as object) ?? {}) };
  if (o.calibText) calibration.text = path.resolve(o.calibText);
  if (o.calibDataset) calibration.dataset = o.calibDataset;
  if (o.calibSamples !== undefined) calibration.samples = o.calibSamples;
  if (o.calibSeqLen !== undefined) calibration.seqLen = o.calibSeqLen;
  if (o.calibBatch !== undefined) calibration.batch = o.calibBatch;
  if (o.seed !== undefined) calibration.seed = o.seed;
  const p: Record<string, unknown> = { ...base, model: o.model, calibration };
  if (o.layers) p.layers = o.layers;
  const only = (flag: string, kinds: AnalysisKind[]) => {
    if (!kinds.includes(kind))
      throw usageError(`${flag} applies to analyze ${kinds.join(' | ')}, not ${kind}`);
  };
  if (o.minTokens !== undefined) {
    only('--min-tokens', ['routing']);
    p.minTokens = o.minTokens;
  }
  if (o.ckaTokens !== undefined) {
    only('--cka-tokens', ['similarity']);
    p.ckaTokens = o.ckaTokens;
  }
  if (o.whitened) {
    only('--whitened', ['energy']);
    p.whitened = true;
  }
  const sens = [o.method, o.methodParams, o.ratio, o.dataset, o.seqLen, o.maxWindows].some(
    (v) => v !== undefined,
  );
  if (sens) only('--method/--method-params/--ratio/--dataset/--seq-len/--max-windows', ['sensitivity']);
  if (kind === 'sensitivity') {
    if (o.method) p.method = o.method;
    if (p.method === undefined) throw usageError('analyze sensitivity needs --method NAME');
    if (o.methodParams !== undefined) {
      try {
        p.params = JSON.parse(o.methodParams);
      } catch (e) {
        throw usageError(`--method-params is not JSON: ${(e as Error).message}`);
      }
    }
    if (o.ratio !== undefined) p.ratio = o.ratio;
    const ev: Record<string, unknown> = { ...((base.evaluation as object) ?? {}) };
    if (o.dataset) ev.dataset = o.dataset;
    if (o.seqLen !== undefined) ev.seqLen = o.seqLen;
    if (o.maxWindows !== undefined) ev.maxWindows = o.maxWindows;
    p.evaluation = ev;
  }
  return p;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('analyze')
    .description(`sensitivity analyses, each a stored run (analysis.<kind>): ${ANALYSIS_KINDS.join(', ')}`)
    .argument('<kind>', ANALYSIS_KINDS.join(' | '))
    .requiredOption('--model <dir>', 'Hugging Face or workbench model folder, or a built-in name')
    .option('--params <file>', 'job params as JSON (docs/analyses.md); flags override')
    .option('--layers <list>', 'comma-separated layers (default: every MoE layer)', intList)
    .option('--calib-dataset <name|path>', 'calibration data set (default calib)')
    .option('--calib-text <file>', 'calibration text file')
    .option('--calib-samples <n>', 'calibration sequences (default 32)', positiveInt)
    .option('--calib-seq-len <n>', 'tokens per calibration sequence (default 256)', positiveInt)
    .option('--calib-batch <n>', 'sequences per layer batch (default 8)', positiveInt)
    .option('--seed <n>', 'calibration sampler seed (default 3)', nonNegativeInt)
    .option(
      '--min-tokens <n>',
      'routing: routed tokens an expert needs to count as covered (default 1)',
      positiveInt,
    )
    .option(
      '--cka-tokens <n>',
      'similarity: tokens every expert runs on for the CKA (default 512)',
      positiveInt,
    )
    .option('--whitened', 'energy: singular values of W·chol(G) (SVD-LLM whitening) instead of W')
    .option('--method <id>', 'sensitivity: compression method')
    .option('--method-params <json>', 'sensitivity: the method params as JSON')
    .option(
      '--ratio <r>',
      'sensitivity: share of each layer’s routed-expert params removed, in [0, 1) (default 0.4)',
      unitFraction,
    )
    .option('--dataset <name|path>', 'sensitivity: perplexity data set (default wikitext2)')
    .option('--seq-len <n>', 'sensitivity: perplexity window (default 2048)', positiveInt)
    .option('--max-windows <k>', 'sensitivity: at most k windows', positiveInt)
    .option('--data-dir <dir>', 'extra folder to search for built-in datasets (repeatable)', collect, [])
    .action(async (kind: string, opts: AnalyzeOptions) => {
      if (!(ANALYSIS_KINDS as readonly string[]).includes(kind))
        throw usageError(`unknown analysis '${kind}'; expected ${ANALYSIS_KINDS.join(', ')}`);
      const k = kind as AnalysisKind;
      const file = opts.params ? ctx.readJsonFile(opts.params, 'analysis params') : undefined;
      const params = { ...analyzeParams(k, opts, file), ...cliRefs(opts.dataDir) };
      const done = await runJob<AnalysisResult<AnalysisRecord>>(ctx, `analysis.${k}`, params, {
        label: `analyze ${k}`,
      });
      ctx.output(done.result, table);
    });
  void cmd;
}
