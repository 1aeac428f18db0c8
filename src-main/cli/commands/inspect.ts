// moe-bench inspect MODEL_DIR: architecture, layer layout and exact parameter counts of a checkpoint.
import type { Command } from 'commander';
import type { ModelSummary } from '../../engine/model/inspect';
import type { CliContext } from '../context';

const fmt = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : String(n);

function human(s: ModelSummary): string {
  return [
    `${s.architecture} (${s.modelType}), ${s.layers} layers: ${s.moeLayers.length} MoE, ${s.denseLayers.length} dense`,
    `experts/layer ${s.expertsPerLayer}, top-${s.topK}, shared ${s.sharedExperts}`,
    `hidden ${s.hiddenSize}, intermediate ${s.intermediateSize}, expert intermediate ${s.moeIntermediateSize}, vocab ${s.vocabSize}`,
    `params ${fmt(s.params.total)} total, ${fmt(s.params.experts)} in routed experts, ${fmt(s.params.activePerToken)} active/token`,
    `weights ${s.dtype}, ${(s.bytesOnDisk / 2 ** 30).toFixed(2)} GiB on disk`,
  ].join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description('show a model folder: architecture, MoE layout, parameter counts, dtype, size')
    .argument('<model-dir>', 'Hugging Face model folder (config.json + safetensors)')
    .action(async (dir: string) => {
      const [{ summarize }, { openModel }] = await Promise.all([
        import('../../engine/model/inspect'),
        import('../../engine/model/model'),
      ]);
      const model = openModel(dir);
      try {
        ctx.output(summarize(model), human);
      } finally {
        model.checkpoint.close();
      }
    });
}
