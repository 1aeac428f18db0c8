// moe-bench export: rewrite a model folder (a workbench-format export or plain HF) as a plain HF
// checkpoint (factored linears rebuilt as W = A·B, pruned experts renumbered, dropped blocks removed)
// or in the workbench format, or (`--format gptq`) as a plain HF checkpoint with its quantized
// linears in the AutoGPTQ layout (docs/export-formats.md), optionally in another dtype. A layout HF cannot express (a Layer Drop,
// different expert counts per layer) is written in the workbench format, with a warning. Runs as the
// `export` job: the written files are a stored run's artifacts.
import type { Command } from 'commander';
import { formatBytes } from '../../contract/units';
import type { ExportJobResult } from '../../engine/jobs/export';
import { usageError } from '../cli-error';
import type { CliContext } from '../context';
import { cliRefs, runJob } from '../run-job';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('write a model folder as a plain HF checkpoint (W = A·B) or in the workbench format')
    .requiredOption('--model <dir>', 'model folder (workbench format or plain HF) or built-in model name')
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <f>', 'dense | factored | gptq', 'dense')
    .option('--dtype <d>', 'F32 | BF16 | F16 (default: the source dtype)')
    .action(async (o: { model: string; out: string; format: string; dtype?: string }) => {
      if (o.format !== 'dense' && o.format !== 'factored' && o.format !== 'gptq')
        throw usageError(`--format must be dense, factored or gptq, got '${o.format}'`);
      if (o.dtype !== undefined && !['F32', 'BF16', 'F16'].includes(o.dtype))
        throw usageError(`--dtype must be F32, BF16 or F16, got '${o.dtype}'`);
      const done = await runJob<ExportJobResult>(
        ctx,
        'export',
        {
          model: o.model,
          outDir: o.out,
          format: o.format,
          ...(o.dtype ? { dtype: o.dtype } : {}),
          ...cliRefs(),
        },
        { label: 'export' },
      );
      // the exporter's result as before; the run id is on the progress lines and in `runs list`
      const { runId: _runId, ...r } = done.result;
      if (r.fallbackReason) ctx.progress(`warning: written in the workbench format: ${r.fallbackReason}`);
      if (r.gptq?.note) ctx.progress(`warning: ${r.gptq.note}`);
      ctx.output(
        r,
        (x) =>
          `${x.params} params written to ${x.outDir} (${x.files.length} file(s), ${formatBytes(x.bytes)})`,
      );
    });
}
