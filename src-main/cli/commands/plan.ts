// moe-bench plan CONFIG: what a pipeline will do before anything runs — each step's knob (experts
// removed, groups, rank, layers dropped …), parameters and weight bytes after it, the achieved
// ratio — from the model's shapes only (config.json + safetensors headers: seconds even at 47 B
// parameters). An unreachable target is reported with the reachable value and exit code 1.
import path from 'node:path';
import type { Command } from 'commander';
import { formatBytes, formatCount } from '../../contract/units';
import type { PipelinePlan } from '../../engine/pipeline/plan';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

function human(p: PipelinePlan): string {
  const lines = [
    `${p.model} (${p.architecture}): ${formatCount(p.paramsBefore)} params, ${formatBytes(p.weightBytesBefore)} of weights`,
    ...p.steps.map(
      (s, i) =>
        `  ${i + 1}. ${s.method} [${s.family}] ${
          s.noop
            ? 'no-op (the budget leaves nothing for this step)'
            : Object.entries(s.knobs)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')
        } → ${formatCount(s.paramsAfter)} params, ${formatBytes(s.weightBytesAfter)}, ratio ${s.ratioAfter.toFixed(4)}`,
    ),
    `achieved ratio ${p.achievedRatio.toFixed(4)}${p.targetRatio !== null ? ` (target ${p.targetRatio})` : ''}, ${formatCount(p.paramsAfter)} params, ${formatBytes(p.weightBytesAfter)} of weights`,
  ];
  if (p.problem) lines.push(`problem: ${p.problem}`);
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description("show each step's knob, parameters and weight bytes for a pipeline config, from shapes only")
    .argument('<config>', 'pipeline config JSON')
    .action(async (file: string) => {
      const [{ parsePipelineConfig }, { planPipeline }, { resolveModelDir }] = await Promise.all([
        import('../../engine/pipeline/config'),
        import('../../engine/pipeline/plan'),
        import('../../engine/pipeline/model-ref'),
      ]);
      const abs = path.resolve(file);
      const config = parsePipelineConfig(ctx.readJsonFile(abs, 'pipeline config'), abs);
      const plan = planPipeline(config, resolveModelDir(config.model, path.dirname(abs)));
      ctx.output(plan, human);
      if (plan.problem) throw new CliError(plan.problem);
    });
}
