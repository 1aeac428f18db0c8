// moe-bench inspect MODEL_DIR: architecture, layer layout and exact parameter counts of a checkpoint.
import type { Command } from 'commander';
import { formatBytes, formatCount } from '../../contract/units';
import type { LayerSummary, ModelSummary } from '../../engine/model/inspect';
import type { CliContext } from '../context';

function layerLine(l: LayerSummary, s: ModelSummary): string {
  const head = `  layer ${l.layer}:`;
  if (l.state === 'block-dropped') return `${head} block dropped`;
  if (l.state === 'ffn-dropped') return `${head} ${l.kind === 'moe' ? 'MoE' : 'MLP'} sub-layer dropped`;
  if (l.kind === 'dense') return `${head} dense MLP, ${formatCount(l.params)} params`;
  const dropped =
    l.expertsDropped > 0
      ? ` (${l.expertsDropped} dropped${l.droppedIds?.length ? `: ${l.droppedIds.join(', ')}` : ''})`
      : '';
  const merged = l.merged > 0 ? `, ${l.merged} merged` : '';
  const form =
    l.form === 'dense' || l.form === null ? 'dense' : `${l.form}${l.rank !== null ? ` r=${l.rank}` : ''}`;
  return `${head} ${l.experts}/${s.expertsPerLayer} experts kept${dropped}${merged}, top-${l.topK}, ${form}, ${formatCount(l.params)} params`;
}

function human(s: ModelSummary): string {
  const changed = s.perLayer.some((l) => l.state !== 'plain');
  return [
    `${s.architecture} (${s.modelType}), ${s.layers} layers: ${s.moeLayers.length} MoE, ${s.denseLayers.length} dense`,
    `experts/layer ${s.expertsPerLayer}, top-${s.topK}, shared ${s.sharedExperts}`,
    `hidden ${s.hiddenSize}, intermediate ${s.intermediateSize}, expert intermediate ${s.moeIntermediateSize}, vocab ${s.vocabSize}`,
    `params ${formatCount(s.params.total)} total, ${formatCount(s.params.experts)} in routed experts, ${formatCount(s.params.activePerToken)} active/token`,
    `weights ${s.dtype}, ${formatBytes(s.bytesOnDisk, 2)} on disk`,
    ...(s.workbench
      ? [`workbench format v${s.workbench.version}${s.workbench.method ? ` (${s.workbench.method})` : ''}`]
      : []),
    ...(changed ? s.perLayer.map((l) => layerLine(l, s)) : []),
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
