// Declaration of `block-drop` (family T, METHODS §4.5, Unified "Block Drop"): remove whole decoder
// blocks whose output is most similar to their input. A plan pass records, per live block, the
// hidden states h_i entering it (and the last block's output h_L):
// * discrete (default): drop the `blocksDropped` blocks with the highest mean_t cos(h_i, h_{i+1});
// * consecutive: drop blocks i..i+n−1 for the start i maximising mean_t cos(h_i, h_{i+n}).
//   DECISION (§4.5 PITFALL): we compare the input of the first dropped block with the output of the
//   last dropped block (h_i vs h_{i+n}, the usual angular-distance definition over the dropped
//   span), NOT the reference's column n = h_{i+n+1}, which looks one block past the span.
// Blocks already dropped by an earlier step are skipped over (their input is the next live block's
// input), so "consecutive" means n consecutive live blocks. No tfjs here.
//
// Knob `blocksDropped` in [0, live blocks − 1] (at least one block stays). The shape plan marks the
// LAST k live blocks; the plan pass decides which. When the model mixes dense and MoE blocks
// (DeepSeek layer 0, Qwen2-MoE mlp_only_layers) blocks differ in size, so a budget-driven count is
// exact only when the chosen blocks are of the kinds the shape plan assumed.
import { z } from 'zod';
import type { ModelPlanState } from '../pipeline/plan-state';
import type { KnobSpec, MethodDeclaration } from './method';
import { StepRatio } from './params-common';
import { atMostOneOf } from './prune/amount';

export const BlockDropParams = z
  .object({
    mode: z
      .enum(['discrete', 'consecutive'])
      .default('discrete')
      .describe(
        "'discrete' = the blocks with the highest cos(block input, block output); 'consecutive' = the run of blocks i..i+n−1 with the highest cos(h_i, h_{i+n}) (input of the first vs output of the last dropped block)",
      ),
    count: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('decoder blocks to drop (Unified drop_n; its scripts: Mixtral 5, DeepSeek 4)'),
    ratio: StepRatio,
  })
  .strict()
  .superRefine(atMostOneOf(['count', 'ratio']))
  .describe('Unified Block Drop: remove the decoder blocks that change the hidden states least');
export type BlockDropParams = z.output<typeof BlockDropParams>;

export const liveBlocks = (s: ModelPlanState) => s.layers.filter((l) => !l.blockDropped);

/** The state with the last k live blocks dropped. */
export function dropLastBlocks(s: ModelPlanState, k: number): ModelPlanState {
  if (k <= 0) return s;
  const live = liveBlocks(s);
  const drop = new Set(live.slice(live.length - k).map((l) => l.layer));
  return { ...s, layers: s.layers.map((l) => (drop.has(l.layer) ? { ...l, blockDropped: true } : l)) };
}

const knob: KnobSpec<BlockDropParams> = {
  name: 'blocksDropped',
  fixed: (p) => p.count ?? null,
  range: (_p, s) => [0, Math.max(0, liveBlocks(s).length - 1)],
  apply: (_p, s, k) => dropLastBlocks(s, k),
};

export const blockDropDeclaration: MethodDeclaration<BlockDropParams> = {
  id: 'block-drop',
  family: 'T',
  title: 'Block drop (Unified)',
  description:
    'Remove whole decoder blocks whose output is most similar to their input (discrete or a consecutive run).',
  params: BlockDropParams,
  knob,
  check: (_p, s) =>
    liveBlocks(s).length < 2 ? 'the model has a single block left; block drop keeps at least one' : null,
  // consecutive: the inputs of n blocks over the whole calibration set (4 bytes per value); the
  // calibration size is not known here, so the runner's activation estimate covers one of them
  statsBytes: () => 0,
  load: async () => (await import('./block-drop')).blockDrop,
};
