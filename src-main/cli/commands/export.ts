// moe-bench export: rewrite a (factored) model folder as a dense HF checkpoint (W = A·B under the
// original names) or re-export it factored, optionally in another dtype.
import type { Command } from 'commander';
import { exportModel } from '../../engine/export/export-model';
import { openFactoredLayer } from '../../engine/model/factored-model';
import { openModel } from '../../engine/model/model';
import type { LayerOverride } from '../../engine/model/types';
import { disposeOverrides } from '../../engine/pipeline/runner';
import { initBackend } from '../../engine/tensor/backend';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('write a model folder as a dense HF checkpoint (W = A·B) or in the factored format')
    .requiredOption('--model <dir>', 'model folder (factored or plain HF)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <f>', 'dense | factored', 'dense')
    .option('--dtype <d>', 'F32 | BF16 | F16 (default: the source dtype)')
    .action(async (o: { model: string; out: string; format: string; dtype?: string }) => {
      if (o.format !== 'dense' && o.format !== 'factored')
        throw usageError(`--format must be dense or factored, got '${o.format}'`);
      if (o.dtype !== undefined && !['F32', 'BF16', 'F16'].includes(o.dtype))
        throw usageError(`--dtype must be F32, BF16 or F16, got '${o.dtype}'`);
      await initBackend({ force: ctx.globals().backend });
      const model = openModel(o.model);
      const overrides = new Map<number, LayerOverride>();
      try {
        for (let l = 0; l < model.spec.layers; l++) {
          const v = openFactoredLayer(model, l);
          if (v) overrides.set(l, { moe: v });
        }
        const r = exportModel(model, overrides, o.out, {
          format: o.format,
          ...(o.dtype ? { dtype: o.dtype as 'F32' | 'BF16' | 'F16' } : {}),
        });
        ctx.output(
          r,
          (x) =>
            `${x.params} params written to ${x.outDir} (${x.files.length} file(s), ${(x.bytes / 2 ** 20).toFixed(1)} MiB)`,
        );
      } finally {
        disposeOverrides(overrides);
        model.checkpoint.close();
      }
    });
}
