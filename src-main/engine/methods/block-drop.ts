// Implementation of `block-drop` (declaration: block-drop.params.ts, which states the §4.5
// off-by-one decision). Plan pass over the live blocks in order:
// * discrete: mean_t cos(h_i, h_{i+1}) of each block's input and output, one batch at a time;
// * consecutive (n = blocksDropped): the inputs of the last n live blocks are kept in ctx.scratch
//   as host copies (dataSync), for every calibration batch — memory n × the calibration activations
//   ([samples·seqLen, h] f32 each) — and at block j's output h_{j+1} the span starting at live block
//   j+1−n gets mean_t cos(h_{j+1−n}, h_{j+1}); that input is then released.
// decide: the most similar blocks (discrete) or the best span (consecutive; ties → the earlier
// start); apply: skipBlock.
import { EngineError } from '../errors';
import type { BlockDropParams } from './block-drop.params';
import type { StepImplementation } from './method';
import { mostSimilar } from './trim/rank-layers';
import { TokenCosineMean } from './trim/token-cosine';

export interface BlockDropDecision {
  mode: 'discrete' | 'consecutive';
  layers: number[];
  /** discrete: cos(h_i, h_{i+1}) per live block */
  similarity: Record<string, number>;
  /** consecutive: cos(h_i, h_{i+n}) per start block i */
  spanSimilarity?: Record<string, number>;
}

interface Summary {
  /** position among the live blocks */
  live: number;
  similarity: number;
  /** consecutive: the span of n live blocks ending at this block, and its similarity */
  spanStart?: number;
  spanSimilarity?: number;
}

interface Held {
  /** layer index of each live block seen so far */
  live: number[];
  /** inputs of the last n live blocks, per calibration batch */
  inputs: Map<number, Float32Array[]>;
}

const KEY = 'block-drop';

export const blockDrop: StepImplementation<BlockDropParams> = {
  async planLayer(ctx, layer, sweep) {
    const n = ctx.knobs.blocksDropped ?? 0;
    if (n === 0 || layer.blockDropped) return null;
    const h = ctx.spec.hidden;
    let held = ctx.scratch.get(KEY) as Held | undefined;
    if (!held) {
      held = { live: [], inputs: new Map() };
      ctx.scratch.set(KEY, held);
    }
    const j = held.live.length;
    held.live.push(layer.layer);
    const consecutive = ctx.params.mode === 'consecutive';
    const start = j + 1 - n;
    const mine: Float32Array[] = [];
    if (consecutive) held.inputs.set(j, mine);
    const block = new TokenCosineMean();
    const span = new TokenCosineMean();
    let input: Float32Array | null = null;
    let b = 0;
    await sweep({
      onLayerInput: (e) => {
        input = e.hidden.dataSync() as Float32Array;
        if (consecutive) mine[b] = input;
      },
      onLayerOutput: (e) => {
        const out = e.hidden.dataSync();
        block.add(input!, out, h);
        if (consecutive && start >= 0) span.add(held!.inputs.get(start)![b]!, out, h);
        input = null;
        b++;
      },
    });
    const s: Summary = { live: j, similarity: block.mean() };
    if (consecutive && start >= 0) {
      held.inputs.delete(start);
      s.spanStart = start;
      s.spanSimilarity = span.mean();
    }
    return s;
  },
  decide(ctx, summaries): BlockDropDecision {
    ctx.scratch.delete(KEY);
    const n = ctx.knobs.blocksDropped ?? 0;
    const rows = [...summaries].filter(([, s]) => s) as [number, Summary][];
    const similarity = Object.fromEntries(rows.map(([l, s]) => [String(l), s.similarity]));
    if (ctx.params.mode === 'discrete' || n === 0)
      return {
        mode: ctx.params.mode,
        layers: mostSimilar(new Map(rows.map(([l, s]) => [l, s.similarity])), n),
        similarity,
      };
    const live = rows.sort((a, b) => a[1].live - b[1].live).map(([l]) => l);
    let best: { start: number; sim: number } | null = null;
    const spanSimilarity: Record<string, number> = {};
    for (const [, s] of rows) {
      if (s.spanStart === undefined) continue;
      spanSimilarity[String(live[s.spanStart]!)] = s.spanSimilarity!;
      if (
        !best ||
        s.spanSimilarity! > best.sim ||
        (s.spanSimilarity === best.sim && s.spanStart < best.start)
      )
        best = { start: s.spanStart, sim: s.spanSimilarity! };
    }
    if (!best)
      throw new EngineError(
        `block-drop: no run of ${n} consecutive blocks among the ${live.length} live ones`,
        {
          field: 'steps',
        },
      );
    return {
      mode: 'consecutive',
      layers: live.slice(best.start, best.start + n),
      similarity,
      spanSimilarity,
    };
  },
  touches(ctx, layer) {
    const d = ctx.decision as BlockDropDecision | null;
    return !!d && d.layers.includes(layer.layer);
  },
  apply(ctx, layer) {
    const d = ctx.decision as BlockDropDecision;
    return {
      override: { skipBlock: true },
      record: {
        method: 'block-drop',
        dropped: 'block',
        mode: d.mode,
        similarity: d.similarity[String(layer.layer)] ?? null,
        ...(d.spanSimilarity
          ? { spanStart: d.layers[0], spanSimilarity: d.spanSimilarity[String(d.layers[0])] }
          : {}),
      },
    };
  },
};
