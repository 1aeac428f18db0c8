// moe-bench eval ppl: perplexity of a model on a dataset, text file or token-id file (METHODS §8.1).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EngineError } from '../../engine/errors';
import type { PerplexityResult } from '../../engine/eval/perplexity';
import { readTokenIds } from '../../engine/eval/token-ids';
import { positiveInt } from '../arg-parsers';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';

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

const collect = (value: string, previous: string[]) => [...previous, value];

async function tokensFor(opts: PplOptions, ctx: CliContext): Promise<number[]> {
  if (opts.tokenIds !== undefined) return readTokenIds(opts.tokenIds);
  let text: string;
  if (opts.text !== undefined) {
    const file = path.resolve(opts.text);
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new EngineError(`cannot read text file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
        file,
        field: '--text',
      });
    }
  } else {
    const { defaultDataDirs, joinForPerplexity, loadDatasetRows, resolveDataset } = await import(
      '../../engine/io/datasets'
    );
    const ref = resolveDataset(opts.dataset!, { dataDirs: [...opts.dataDir, ...defaultDataDirs()] });
    const rows = await loadDatasetRows(ref);
    ctx.progress(`dataset ${ref.builtin ?? ref.spec}: ${rows.length} rows from ${ref.path}`);
    text = joinForPerplexity(rows);
  }
  const { loadTokenizer } = await import('../../engine/io/tokenizer');
  const tok = await loadTokenizer(opts.model);
  const ids = tok.encode(text);
  ctx.progress(`tokenized ${text.length} chars -> ${ids.length} tokens (${tok.specialTokenRule})`);
  return ids;
}

function human(r: PerplexityResult): string {
  return `ppl ${r.ppl.toFixed(4)} over ${r.tokens} tokens (${r.windows} windows) in ${r.seconds.toFixed(1)} s, ${r.tokensPerSecond.toFixed(1)} tok/s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${r.backend}`;
}

export function register(program: Command, ctx: CliContext): void {
  const evalCmd = program.command('eval').description('evaluate a model');
  evalCmd
    .command('ppl')
    .description(
      'perplexity: rows joined with "\\n\\n", tokenized once, non-overlapping windows, tail dropped',
    )
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option(
      '--dataset <name|path>',
      'built-in dataset (wikitext2, ptb, c4, ...) or a .txt/.jsonl/.parquet file',
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
      // the engine (tfjs) loads only when a command that computes runs
      const [{ openModel }, { perplexity }, { initBackend }] = await Promise.all([
        import('../../engine/model/model'),
        import('../../engine/eval/perplexity'),
        import('../../engine/tensor/backend'),
      ]);
      const model = openModel(opts.model);
      try {
        const ids = await tokensFor(opts, ctx);
        await initBackend({ force: ctx.globals().backend });
        const r = await perplexity(model, ids, {
          seqLen: opts.seqLen,
          ...(opts.maxWindows !== undefined ? { maxWindows: opts.maxWindows } : {}),
          ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
          onProgress: (p) => {
            if (p.layer === p.layers - 1 || ctx.globals().verbose)
              ctx.progress(
                `windows ${p.batchStart + 1}-${p.batchEnd} of ${p.windows}: layer ${p.layer + 1}/${p.layers}`,
              );
          },
        });
        ctx.output(r, human);
      } finally {
        model.checkpoint.close();
      }
    });
}
