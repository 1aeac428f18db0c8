// moe-bench tokenize: the exact token ids perplexity evaluation uses (rows joined with "\n\n",
// tokenized once with the model's default special tokens), written as {"ids": [...]}. Runs as the
// `tokenize` job, so the output is a stored run with the file as its artifact.
import type { Command } from 'commander';
import type { TokenizeResult } from '../../engine/jobs/tokenize';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';
import { cliRefs, runJob } from '../run-job';

interface TokenizeOptions {
  model: string;
  text?: string;
  dataset?: string;
  out: string;
  dataDir: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('tokenize')
    .description('tokenize a text file or dataset with a model tokenizer, as perplexity evaluation does')
    .requiredOption(
      '--model <dir>',
      'model folder holding tokenizer.json (+ tokenizer_config.json), or a built-in name',
    )
    .option('--text <file>', 'a UTF-8 text file, tokenized as one string')
    .option(
      '--dataset <name|path>',
      'built-in dataset (wikitext2, ptb, c4, ...) or a .txt/.jsonl/.parquet file; rows joined with "\\n\\n"',
    )
    .requiredOption('--out <file>', 'where to write {"ids": [...]}')
    .option('--data-dir <dir>', 'extra folder to search for built-in datasets (repeatable)', collect, [])
    .action(async (opts: TokenizeOptions) => {
      if ((opts.text === undefined) === (opts.dataset === undefined)) {
        throw usageError('tokenize needs exactly one of --text FILE or --dataset NAME');
      }
      const done = await runJob<TokenizeResult>(
        ctx,
        'tokenize',
        {
          model: opts.model,
          ...(opts.text !== undefined ? { text: opts.text } : { dataset: opts.dataset }),
          out: opts.out,
          ...cliRefs(opts.dataDir),
        },
        { label: 'tokenize' },
      );
      const { tokens, out } = done.result;
      ctx.output({ tokens, out }, (r) => `${r.tokens} tokens -> ${r.out}`);
    });
}
