// moe-bench tokenize: the exact token ids perplexity evaluation uses (rows joined with "\n\n",
// tokenized once with the model's default special tokens), written as {"ids": [...]}.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EngineError } from '../../engine/errors';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';

interface TokenizeOptions {
  model: string;
  text?: string;
  dataset?: string;
  out: string;
  dataDir: string[];
}

interface TokenizeResult {
  tokens: number;
  out: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('tokenize')
    .description('tokenize a text file or dataset with a model tokenizer, as perplexity evaluation does')
    .requiredOption('--model <dir>', 'model folder holding tokenizer.json (+ tokenizer_config.json)')
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
      const [{ defaultDataDirs, joinForPerplexity, loadDatasetRows, resolveDataset }, { loadTokenizer }] =
        await Promise.all([import('../../engine/io/datasets'), import('../../engine/io/tokenizer')]);
      const tok = await loadTokenizer(opts.model);
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
        const ref = resolveDataset(opts.dataset!, { dataDirs: [...opts.dataDir, ...defaultDataDirs()] });
        const rows = await loadDatasetRows(ref);
        ctx.progress(`dataset ${ref.builtin ?? ref.spec}: ${rows.length} rows from ${ref.path}`);
        text = joinForPerplexity(rows);
      }
      const t0 = performance.now();
      const ids = tok.encode(text);
      ctx.progress(
        `tokenized ${text.length} chars -> ${ids.length} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s (${tok.specialTokenRule})`,
      );
      const out = path.resolve(opts.out);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const tmp = `${out}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, `{"ids":[${ids.join(',')}]}\n`);
      fs.renameSync(tmp, out);
      ctx.output<TokenizeResult>({ tokens: ids.length, out }, (r) => `${r.tokens} tokens -> ${r.out}`);
    });
}
