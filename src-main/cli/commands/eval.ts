// moe-bench eval ppl | logits: perplexity of a model on a dataset, text file or token-id file
// (METHODS §8.1), and the logits of one sequence. Both run as jobs (eval.ppl, eval.logits), so each
// result is a stored run (`moe-bench runs list`).
import type { Command } from 'commander';
import { formatBytes } from '../../contract/units';
import type { PerplexityResult } from '../../engine/eval/perplexity';
import type { EvalLogitsResult } from '../../engine/jobs/eval-logits';
import type { EvalPplResult } from '../../engine/jobs/eval-ppl';
import type { EvalSpeedResult } from '../../engine/jobs/eval-speed';
import { nonNegativeInt, positiveInt } from '../arg-parsers';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';
import { cliRefs, runJob } from '../run-job';
import { mcCommand } from './eval-mc';

interface PplOptions {
  model: string;
  dataset?: string;
  text?: string;
  tokenIds?: string;
  seqLen: number;
  maxWindows?: number;
  batch?: number;
  dataDir: string[];
}

export interface LogitsOptions {
  model: string;
  tokenIds: string;
  out: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function human(r: PerplexityResult): string {
  return `ppl ${r.ppl.toFixed(4)} over ${r.tokens} tokens (${r.windows} windows) in ${r.seconds.toFixed(1)} s, ${r.tokensPerSecond.toFixed(1)} tok/s, peak RSS ${formatBytes(r.peakRssBytes)}, ${r.backend}`;
}

/** `moe-bench logits` and `moe-bench eval logits`: one job, one output. */
export function logitsCommand(cmd: Command, ctx: CliContext): Command {
  return cmd
    .description('compute the logits of one token sequence and write {"shape":[T,V],"logits":[...]}')
    .requiredOption('--model <dir>', 'Hugging Face model folder or built-in model name')
    .requiredOption('--token-ids <file>', '{"ids": [...]} as written by `moe-bench tokenize`')
    .requiredOption('--out <file>', 'output JSON file')
    .action(async (opts: LogitsOptions) => {
      const done = await runJob<EvalLogitsResult>(
        ctx,
        'eval.logits',
        { model: opts.model, tokenIds: opts.tokenIds, out: opts.out, ...cliRefs() },
        { label: 'logits' },
      );
      const { out, shape } = done.result;
      ctx.output({ out, shape }, (r) => `logits [${r.shape.join(', ')}] -> ${r.out}`);
    });
}

export function register(program: Command, ctx: CliContext): void {
  const evalCmd = program.command('eval').description('evaluate a model (each evaluation is a stored run)');
  evalCmd
    .command('ppl')
    .description(
      'perplexity: rows joined with "\\n\\n", tokenized once, non-overlapping windows, tail dropped',
    )
    .requiredOption('--model <dir>', 'Hugging Face model folder or built-in model name (tiny-mixtral, …)')
    .option(
      '--dataset <name|path>',
      'built-in dataset (heldout, wikitext2, ptb, c4, ...) or a .txt/.jsonl/.parquet file',
    )
    .option('--text <file>', 'a UTF-8 text file, tokenized as one string')
    .option('--token-ids <file>', '{"ids": [...]} as written by `moe-bench tokenize`')
    .option('--seq-len <n>', 'window length in tokens', positiveInt, 2048)
    .option('--max-windows <k>', 'evaluate at most k windows', positiveInt)
    .option('--batch <b>', 'windows pushed through each layer together', positiveInt)
    .option('--data-dir <dir>', 'extra folder to search for built-in datasets (repeatable)', collect, [])
    .action(async (opts: PplOptions) => {
      const sources = [opts.dataset, opts.text, opts.tokenIds].filter((v) => v !== undefined).length;
      if (sources !== 1)
        throw usageError('eval ppl needs exactly one of --dataset NAME, --text FILE or --token-ids FILE');
      const evaluation = {
        ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
        ...(opts.text !== undefined ? { text: opts.text } : {}),
        ...(opts.tokenIds !== undefined ? { tokenIds: opts.tokenIds } : {}),
        seqLen: opts.seqLen,
        ...(opts.maxWindows !== undefined ? { maxWindows: opts.maxWindows } : {}),
        ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
      };
      const done = await runJob<EvalPplResult>(
        ctx,
        'eval.ppl',
        { model: opts.model, evaluations: [evaluation], ...cliRefs(opts.dataDir) },
        {
          label: 'eval ppl',
          // per batch, the last layer only, unless --verbose
          show: (p, verbose) =>
            verbose || !p.step.startsWith('perplexity') || p.layer === (p.layers ?? 0) - 1,
        },
      );
      const { ppl, nll, tokens, windows, seconds, tokensPerSecond, peakRssBytes, backend } =
        done.result.results[0]!;
      ctx.output({ ppl, nll, tokens, windows, seconds, tokensPerSecond, peakRssBytes, backend }, human);
    });
  logitsCommand(evalCmd.command('logits'), ctx);
  mcCommand(evalCmd.command('mc'), ctx);
  speedCommand(evalCmd.command('speed'), ctx);
}

/** `moe-bench eval speed`: the eval.speed job (METHODS §8.3). */
function speedCommand(cmd: Command, ctx: CliContext): Command {
  return cmd
    .description(
      'prefill/decode tokens/s (greedy, KV cache, random prompt), peak memory, weight bytes, FLOPs/token',
    )
    .requiredOption('--model <dir>', 'model folder (HF or workbench format) or built-in model name')
    .option('--prompt-len <n>', 'prompt tokens per sequence', positiveInt, 512)
    .option('--gen-len <n>', 'tokens generated per sequence (at least 2)', positiveInt, 128)
    .option('--batch <b>', 'sequences generated together', positiveInt, 1)
    .option('--seed <s>', 'seed of the random prompt ids', nonNegativeInt, 0)
    .action(async (o: { model: string; promptLen: number; genLen: number; batch: number; seed: number }) => {
      const done = await runJob<EvalSpeedResult>(
        ctx,
        'eval.speed',
        {
          model: o.model,
          promptLen: o.promptLen,
          genLen: o.genLen,
          batch: o.batch,
          seed: o.seed,
          ...cliRefs(),
        },
        { label: 'eval speed' },
      );
      const { flops, ...r } = done.result;
      ctx.output(
        { ...r, flopsPerToken: flops.flopsPerToken, flops },
        (x) =>
          `prefill ${x.prefillTokensPerSecond.toFixed(1)} tok/s, decode ${x.decodeTokensPerSecond.toFixed(1)} tok/s (median step), ` +
          `${(x.flopsPerToken / 1e6).toFixed(3)} MFLOP/token, weights ${formatBytes(x.weightBytes, 2)}, ` +
          `peak tensors ${formatBytes(x.peakTensorBytes)}, peak RSS ${formatBytes(x.peakRssBytes)}, ${x.backend}` +
          (x.runId !== null ? `, run ${x.runId}` : ''),
      );
    });
}
