// moe-bench logits: full next-token logits of one sequence, for parity checks against transformers.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { readTokenIds } from '../../engine/eval/token-ids';
import type { CliContext } from '../context';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('logits')
    .description('compute the logits of one token sequence and write {"shape":[T,V],"logits":[...]}')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .requiredOption('--token-ids <file>', '{"ids": [...]} as written by `moe-bench tokenize`')
    .requiredOption('--out <file>', 'output JSON file')
    .action(async (opts: { model: string; tokenIds: string; out: string }) => {
      const ids = readTokenIds(opts.tokenIds);
      const [{ sequenceLogits }, { openModel }, { initBackend }] = await Promise.all([
        import('../../engine/model/logits'),
        import('../../engine/model/model'),
        import('../../engine/tensor/backend'),
      ]);
      const model = openModel(opts.model);
      try {
        await initBackend({ force: ctx.globals().backend });
        const logits = await sequenceLogits(model, ids, {
          onLayerDone: (l, n) => ctx.progress(`layer ${l + 1}/${n}`),
        });
        const shape = [ids.length, model.spec.vocab];
        const out = path.resolve(opts.out);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        const fd = fs.openSync(`${out}.tmp-${process.pid}`, 'w');
        fs.writeSync(fd, `{"shape":[${shape.join(',')}],"logits":[`);
        const V = shape[1]!;
        for (let t = 0; t < ids.length; t++) {
          const row = Array.from(logits.subarray(t * V, (t + 1) * V), (v) =>
            Number.isFinite(v) ? String(v) : 'null',
          );
          fs.writeSync(fd, (t ? ',' : '') + row.join(','));
        }
        fs.writeSync(fd, ']}\n');
        fs.closeSync(fd);
        fs.renameSync(`${out}.tmp-${process.pid}`, out);
        ctx.output({ out, shape }, (r) => `logits [${r.shape.join(', ')}] -> ${r.out}`);
      } finally {
        model.checkpoint.close();
      }
    });
}
