// An expert-by-expert low-rank method as a pipeline step (svd, asvd, svd-llm). `collect` sweeps the
// layer once and keeps a capture of the MoE inputs and routing (in memory up to the capture budget,
// the rest spilled under the step's scratch folder); `apply` compresses one expert at a time from it
// (expert-by-expert.ts). Neither reads the layer's whole MoE view from the checkpoint.
import os from 'node:os';
import path from 'node:path';
import { MoeInputCapture } from '../../calibration/moe-input-capture';
import { captureBudgetBytes } from '../../calibration/streaming-limits';
import { wantedThreads } from '../../tensor/thread-count';
import type { CurrentLayer, StepImplementation } from '../method';
import { compressExpertByExpert, type ExpertLowRank } from './expert-by-expert';
import { expertSource } from './expert-source';
import { decomposableLayers } from './knob';
import { whiteningThread } from './whitening-thread';

const live = (l: CurrentLayer) => l.kind === 'moe' && !l.ffnDropped && !l.blockDropped;

export function expertByExpertStep<P>(m: ExpertLowRank<P>): StepImplementation<P> {
  return {
    touches(ctx, layer) {
      if (ctx.knobs.rank === undefined || !live(layer)) return false;
      return decomposableLayers(ctx.before).some((l) => l.layer === layer.layer);
    },
    async collect(ctx, layer, sweep) {
      const needs = m.statistics(ctx.params);
      const capture = new MoeInputCapture(layer.layer, ctx.spec.hidden, {
        keepInputs: needs.gram || needs.absMean,
        budgetBytes: captureBudgetBytes(),
        dir: ctx.run?.dir ?? path.join(os.tmpdir(), 'moe-capture'),
      });
      try {
        await sweep(capture.observer(), { routerOnly: true });
        return capture.finish();
      } catch (e) {
        capture.dispose();
        throw e;
      }
    },
    async apply(ctx, layer, stats) {
      const capture = stats as MoeInputCapture;
      try {
        const out = await compressExpertByExpert({
          method: m,
          params: ctx.params,
          rank: ctx.knobs.rank!,
          source: expertSource(ctx, layer),
          capture,
          whitener: whiteningThread(),
          threads: wantedThreads(),
        });
        return {
          override: { moe: out.view },
          record: {
            ...out.record,
            capture: {
              chunks: capture.chunks.length,
              bytesInMemory: capture.bytesInMemory,
              bytesOnDisk: capture.bytesOnDisk,
            },
          },
        };
      } finally {
        capture.dispose();
      }
    },
  };
}
