// moe-bench eval mc: zero-shot multiple-choice accuracy with lm-eval 0.4 semantics (METHODS §8.2),
// run as the eval.mc job (a stored run). `--json` prints exactly
// {task, n, acc, acc_norm, acc_stderr, acc_norm_stderr, docs: [{gold, logliks}]} (WinoGrande: no
// acc_norm fields), the issue-14 contract; timings go to stderr with the progress.
import { type Command, Option } from 'commander';
import { MC_TASKS } from '../../engine/eval/mc/tasks';
import type { EvalMcResult } from '../../engine/jobs/eval-mc';
import { positiveInt } from '../arg-parsers';
import type { CliContext } from '../context';
import { cliRefs, runJob } from '../run-job';

interface McOptions {
  model: string;
  task: string;
  limit?: number;
  tokenBudget?: number;
  dataDir: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];
const pct = (v: number | null | undefined) => (v == null ? '-' : `${(v * 100).toFixed(2)}%`);

export function mcCommand(cmd: Command, ctx: CliContext): Command {
  return cmd
    .description('zero-shot multiple-choice accuracy (lm-eval 0.4: acc, acc_norm, standard errors)')
    .requiredOption('--model <dir>', 'Hugging Face model folder or built-in model name (tiny-mixtral, …)')
    .addOption(new Option('--task <task>', 'task').choices([...MC_TASKS]).makeOptionMandatory())
    .option('--limit <n>', 'score the first n documents (the reference configs use 500)', positiveInt)
    .option('--token-budget <n>', 'padded tokens per forward pass', positiveInt)
    .option('--data-dir <dir>', 'extra folder holding the task data (repeatable)', collect, [])
    .action(async (o: McOptions) => {
      const done = await runJob<EvalMcResult>(
        ctx,
        'eval.mc',
        {
          model: o.model,
          tasks: [o.task],
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          ...(o.tokenBudget !== undefined ? { tokenBudget: o.tokenBudget } : {}),
          ...cliRefs(o.dataDir),
        },
        { label: 'eval mc' },
      );
      const r = done.result.results[0]!;
      const norm = r.acc_norm !== undefined;
      const out = {
        task: r.task,
        n: r.n,
        acc: r.acc,
        ...(norm ? { acc_norm: r.acc_norm } : {}),
        acc_stderr: r.acc_stderr,
        ...(norm ? { acc_norm_stderr: r.acc_norm_stderr ?? null } : {}),
        docs: r.docs.map((d) => ({ gold: d.gold, logliks: d.logliks })),
      };
      ctx.output(
        out,
        (x) =>
          `${x.task}: acc ${pct(x.acc)} ± ${pct(x.acc_stderr)}` +
          (norm ? `, acc_norm ${pct(x.acc_norm)} ± ${pct(x.acc_norm_stderr)}` : '') +
          ` over ${x.n} of ${r.total} documents (${r.requests} requests, ${r.forwards} forward passes, ${r.seconds.toFixed(1)} s)` +
          (done.result.runId !== null ? `, run ${done.result.runId}` : ''),
      );
    });
}
