// D²-MoE as a pipeline step (METHODS §3). Per compressed MoE layer:
//   1. statistics from one sweep of the current layer: raw top-k counts f_e (§3.1.1) and each
//      expert's input and intermediate Grams over its routed tokens (§3.1.3);
//   2. base 'fisher' only: the element-wise empirical Fisher of every routed-expert matrix (§3.1.2),
//      from one layer-streamed backward pass over the whole model (engine/grad) run when the first
//      compressed layer is collected — before this step changed any layer — and kept on disk, one
//      layer read back at a time;
//   3. W_b per projection type (§3.2, d2moe/base.ts), Δ_e = W_e − W_b factorised with the expert's
//      own whitening (§3.3) or ShareV / MergeU (§3.4) (d2moe/delta.ts);
//   4. delta trimming (§3.6): the `trimDeltas` least frequent experts keep no delta and run on W_b;
//   5. static half of the base pruning (§3.5, d2moe/prune.ts): the lowest-scoring intermediate
//      channels are removed from the layer — base rows/columns and the matching rows of the gate/up
//      ΔU and columns of the down ΔV (the reference drops a pruned channel from the whole expert:
//      "delta outputs are computed in full and then sliced", §3.5 code step 6; slicing the factors is
//      that computation);
//   6. dynamic half (§3.5): recorded in the view (`dynamicPrune`: channels per batch, score, and for
//      the probe score the calibration statistic g_j of the kept channels); the executor prunes per
//      token chunk (model/blocks/dynamic-prune.ts).
// Accounting: the budget counts pp as removed in full (cal_params, §3.7 — Table 12); the stored
// layout keeps the dynamically pruned channels (they are chosen per batch), so the exported count
// is d2moe/accounting.ts d2StoredLayerExpertParams, which the record gives next to the budget's.
// The view stores every expert linear as {kind: 'delta', base, A, B} with `base` the same tensor
// object for every expert (counted once by the accounting, transposed once by the executor); a
// trimmed expert (or rank 0) is {kind: 'dense', w: base} with that same object.
import { type LayerStats, LayerStatsCollector } from '../calibration/layer-stats';
import { EngineError } from '../errors';
import { expertFisher, FISHER_PROJECTIONS, type FisherProjection, type LayerFisher } from '../grad/fisher';
import type { Matrix32 } from '../linalg/matrix';
import type { LoadedModel } from '../model/model';
import type { ExpertWeights, LayerOverride, Linear, MoeLayerView, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import type { D2MoeParams } from './d2-moe.params';
import { d2Layers, d2StoredLayerExpertParams, prunePlan } from './d2moe/accounting';
import { mergeBase } from './d2moe/base';
import { type DeltaFactors, type DeltaInput, decomposeDeltas } from './d2moe/delta';
import { FisherStore } from './d2moe/fisher-store';
import { channelScores, keptChannels, takeCols, takeRows } from './d2moe/prune';
import { withExperts } from './expert-factorize';
import { identityScale, type Scale, whiteningScale } from './lowrank/scaling';
import type { CurrentLayer, StepContext, StepImplementation } from './method';

/**
 * Whole-model access a gradient statistic needs (proposed as `StepContext.run`, see the issue-12
 * report): the model, the calibration sequences, the overrides as they stand, a folder for the
 * step that survives a resume.
 */
export interface StepRunAccess {
  model: LoadedModel;
  calibration: readonly (readonly number[])[];
  batch: number;
  overrides: ReadonlyMap<number, LayerOverride>;
  dir?: string;
  signal?: AbortSignal;
}

export const runOf = (ctx: StepContext<unknown>): StepRunAccess | null =>
  (ctx as StepContext<unknown> & { run?: StepRunAccess }).run ?? null;

const PROJ = FISHER_PROJECTIONS;

export interface D2Stats {
  layer: LayerStats;
  fisher: LayerFisher | null;
}

export interface D2LayerInput {
  view: MoeLayerView;
  stats: LayerStats;
  fisher: LayerFisher | null;
  params: D2MoeParams;
  rank: number;
}

function dense(L: Linear, e: number): Tensor2D {
  if (L.kind !== 'dense') throw new EngineError(`d2-moe decomposes dense experts; expert ${e} is ${L.kind}`);
  return L.w;
}

/** Experts whose delta is trimmed: the `n` least frequent (ties: lower index first). */
export function trimmedExperts(freq: readonly number[], n: number): number[] {
  const order = freq.map((f, e) => ({ f, e })).sort((a, b) => a.f - b.f || a.e - b.e);
  return order
    .slice(0, Math.min(n, freq.length))
    .map((x) => x.e)
    .sort((a, b) => a - b);
}

/**
 * Probe Pruning's calibration statistic g_j (§3.5 code step 1) of the kept channels: the mean over
 * routed (token, expert) pairs of the squared intermediate activation, Σ_e G_e[j, j] / Σ_e n_e — the
 * reference's running mean of per-batch means, taken in one sum (same value for equal batches).
 */
export function probeStatistic(stats: LayerStats, I: number, keep: Int32Array | null): Float32Array {
  const x2 = new Float64Array(I);
  let tokens = 0;
  for (const e of stats.experts) {
    const s = e.intermediate;
    if (!s || s.tokens === 0) continue;
    tokens += s.tokens;
    for (let j = 0; j < I; j++) x2[j] += s.gram.data[j * I + j]!;
  }
  const ch = keep ?? Int32Array.from({ length: I }, (_, j) => j);
  return Float32Array.from(ch, (j) => (tokens > 0 ? x2[j]! / tokens : 0));
}

function removedOf(I: number, keep: Int32Array): number[] {
  const k = new Set(keep);
  return Array.from({ length: I }, (_, j) => j).filter((j) => !k.has(j));
}

/** The compressed view of one layer (pure: owns every tensor it returns). */
export function compressD2Layer(o: D2LayerInput): { view: MoeLayerView; record: Record<string, unknown> } {
  const { view, stats, params: p, rank } = o;
  const N = view.experts.length;
  const [I, h] = dense(view.experts[0]!.gate, 0).shape;
  const shape: Record<FisherProjection, [number, number]> = { gate: [I, h], up: [I, h], down: [h, I] };
  const W: Record<FisherProjection, Float32Array[]> = { gate: [], up: [], down: [] };
  view.experts.forEach((ex, e) => {
    for (const q of PROJ) W[q].push(dense(ex[q], e).dataSync() as Float32Array);
  });
  const freq = stats.experts.map((s) => s.tokens);
  if (p.base === 'fisher' && !o.fisher)
    throw new EngineError('d2-moe: base "fisher" without Fisher statistics');
  const base = {} as Record<FisherProjection, Float32Array>;
  const fisherFallbacks: Record<string, number> = {};
  for (const q of PROJ) {
    const r = mergeBase(
      p.base,
      W[q],
      shape[q][0],
      shape[q][1],
      freq,
      o.fisher ? o.fisher.map((f) => f?.[q] ?? null) : null,
      p.fisher.epsilon,
    );
    base[q] = r.data;
    fisherFallbacks[q] = r.fallbacks;
  }
  const trimmed = trimmedExperts(freq, p.trimDeltas);
  const kept = Array.from({ length: N }, (_, e) => e).filter((e) => !trimmed.includes(e));
  // whitening per expert: gate/up share the input Gram, down uses the intermediate Gram
  const scales = new Map<string, Scale>();
  let scaleFallbacks = 0;
  const scaleFor = (e: number, q: FisherProjection): Scale => {
    const key = `${e}:${q === 'down' ? 'inter' : 'in'}`;
    let s = scales.get(key);
    if (!s) {
      const st = q === 'down' ? stats.experts[e]!.intermediate : stats.experts[e]!.input;
      const dim = q === 'down' ? I : h;
      s = st ? whiteningScale(st, { repair: p.repair }) : identityScale(dim, 'no statistics');
      if (s.kind === 'identity' && s.fallback) scaleFallbacks++;
      scales.set(key, s);
    }
    return s;
  };
  const factors: Partial<Record<FisherProjection, DeltaFactors>> = {};
  if (rank > 0 && kept.length > 0) {
    for (const q of PROJ) {
      const [m, n] = shape[q];
      const inputs: DeltaInput[] = kept.map((e) => {
        const d = new Float32Array(m * n);
        const We = W[q][e]!;
        const Wb = base[q];
        for (let i = 0; i < d.length; i++) d[i] = We[i]! - Wb[i]!;
        return { delta: d, scale: scaleFor(e, q), freq: freq[e]! };
      });
      factors[q] = decomposeDeltas(inputs, m, n, rank, { shareV: p.shareV, mergeU: p.mergeU, svd: p.svd });
    }
  }
  // static half of the base pruning
  const plan = prunePlan(I, p.ppRatio, p.dynamic, p.channelMultiple);
  const keep =
    plan.staticRemoved > 0
      ? keptChannels(
          channelScores(
            base.down,
            h,
            I,
            stats.experts.map((s) => s.intermediate),
          ),
          plan.staticRemoved,
        )
      : null;
  const Ik = keep ? keep.length : I;
  const created: tf.Tensor[] = [];
  const make = (data: Float32Array, s: [number, number]): Tensor2D => {
    const t = tf.tensor2d(data, s);
    created.push(t);
    return t;
  };
  try {
    const baseT: Record<FisherProjection, Tensor2D> = {
      gate: make(keep ? takeRows(base.gate, h, keep) : base.gate, [Ik, h]),
      up: make(keep ? takeRows(base.up, h, keep) : base.up, [Ik, h]),
      down: make(keep ? takeCols(base.down, h, I, keep) : base.down, [h, Ik]),
    };
    // one tensor per distinct factor object (ShareV: one B; MergeU: one A too)
    const memo = new Map<Matrix32, Tensor2D>();
    const factor = (M: Matrix32, q: FisherProjection, side: 'A' | 'B'): Tensor2D => {
      let t = memo.get(M);
      if (t) return t;
      const r = side === 'A' ? M.cols : M.rows;
      if (keep && q !== 'down' && side === 'A') t = make(takeRows(M.data, r, keep), [Ik, r]);
      else if (keep && q === 'down' && side === 'B') t = make(takeCols(M.data, r, I, keep), [r, Ik]);
      else t = make(M.data, [M.rows, M.cols]);
      memo.set(M, t);
      return t;
    };
    const experts: ExpertWeights[] = view.experts.map((_, e) => {
      const k = kept.indexOf(e);
      const out = {} as ExpertWeights;
      for (const q of PROJ) {
        const f = factors[q];
        out[q] =
          k < 0 || !f
            ? { kind: 'dense', w: baseT[q] }
            : { kind: 'delta', base: baseT[q], A: factor(f.A[k]!, q, 'A'), B: factor(f.B[k]!, q, 'B') };
      }
      return out;
    });
    const outView = withExperts(view, experts);
    if (plan.dynamicRemoved > 0) {
      outView.dynamicPrune = { remove: plan.dynamicRemoved, score: p.dynamicScore };
      if (p.dynamicScore === 'probe') {
        if (p.probeAlpha !== undefined) outView.dynamicPrune.alpha = p.probeAlpha;
        outView.dynamicPrune.calibration = probeStatistic(stats, I, keep);
      }
    }
    const relError: Record<string, number>[] = view.experts.map((_, e) => {
      const k = kept.indexOf(e);
      return Object.fromEntries(PROJ.map((q) => [q, k < 0 || !factors[q] ? 1 : factors[q]!.relError[k]!]));
    });
    const sumTokens = freq.reduce((a, b) => a + b, 0);
    return {
      view: outView,
      record: {
        method: 'd2-moe',
        rank,
        base: p.base,
        tokens: freq,
        frequency: freq.map((f) => (sumTokens > 0 ? f / sumTokens : 0)),
        trimmed,
        shareV: p.shareV,
        mergeU: p.mergeU,
        fisherFallbackElements: p.base === 'fisher' ? fisherFallbacks : undefined,
        whiteningFallbacks: scaleFallbacks,
        relError,
        prune: {
          ppRatio: p.ppRatio,
          channels: I,
          staticRemoved: plan.staticRemoved,
          dynamicRemoved: plan.dynamicRemoved,
          keptChannels: Ik,
          dynamicScore: plan.dynamicRemoved > 0 ? p.dynamicScore : null,
          removedChannels: keep ? removedOf(I, keep) : [],
        },
        storedExpertParams: d2StoredLayerExpertParams(h, I, N, p, rank),
      },
    };
  } catch (e) {
    tf.dispose(created);
    throw e;
  }
}

// ---- the Fisher pass ------------------------------------------------------------------------

const FISHER_KEY = 'd2-moe:fisher';

async function fisherFor(ctx: StepContext<D2MoeParams>, l: number): Promise<LayerFisher> {
  let store = ctx.scratch.get(FISHER_KEY) as FisherStore | undefined;
  if (!store) {
    const run = runOf(ctx as StepContext<unknown>);
    const field = `steps.${ctx.step}.params.base`;
    if (!run)
      throw new EngineError(
        'base "fisher" needs a backward pass over the whole model, which this runner does not offer the step',
        {
          field,
          hint: "use base 'freq' or 'mean', or a runner that passes StepContext.run",
        },
      );
    const dir = run.dir ?? null;
    const reuse = dir ? FisherStore.openComplete(dir) : null;
    if (reuse) store = reuse;
    else {
      const first = d2Layers(ctx.before, ctx.params)[0]?.layer;
      if (first !== l)
        throw new EngineError(
          `the Fisher statistics of this d2-moe step are gone (resumed at layer ${l}); they must come from the model before the step`,
          { field, hint: 'start the run again without resuming' },
        );
      const fs = await import('node:fs');
      const os = await import('node:os');
      const path = await import('node:path');
      const folder = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'd2-moe-fisher-'));
      const s = new FisherStore(folder);
      const wanted = new Set(d2Layers(ctx.before, ctx.params).map((x) => x.layer));
      const samples = ctx.params.fisher.samples ?? run.calibration.length;
      const t0 = performance.now();
      const r = await expertFisher({
        model: run.model,
        overrides: run.overrides,
        sequences: run.calibration.slice(0, samples),
        batch: run.batch,
        mode: ctx.params.fisher.mode,
        shift: ctx.params.fisher.shift,
        memoryBudgetBytes: ctx.params.fisher.memoryMiB * 2 ** 20,
        tempDir: folder,
        ...(run.signal ? { signal: run.signal } : {}),
        onLayer: (layer, f) => {
          if (wanted.has(layer)) s.write(layer, f);
        },
      });
      s.markComplete({
        sequences: Math.min(samples, run.calibration.length),
        loss: r.loss,
        seconds: (performance.now() - t0) / 1000,
        forwardSeconds: r.forwardSeconds,
        backwardSeconds: r.backwardSeconds,
        boundaryMemoryBytes: r.boundaryMemoryBytes,
        spilledBytes: r.spilledBytes,
        mode: ctx.params.fisher.mode,
        shift: ctx.params.fisher.shift,
      });
      store = s;
    }
    ctx.scratch.set(FISHER_KEY, store);
  }
  if (!store.has(l)) throw new EngineError(`d2-moe: no Fisher statistics for layer ${l}`);
  return store.read(l);
}

function eligible(ctx: StepContext<D2MoeParams>, layer: CurrentLayer): boolean {
  if (ctx.knobs.rank === undefined || !layer.view) return false;
  if (!d2Layers(ctx.before, ctx.params).some((l) => l.layer === layer.layer)) return false;
  return layer.view.experts.every(
    (e) => e.gate.kind === 'dense' && e.up.kind === 'dense' && e.down.kind === 'dense',
  );
}

export const d2MoeStep: StepImplementation<D2MoeParams> = {
  touches: eligible,
  async collect(ctx, layer, sweep): Promise<D2Stats> {
    const c = new LayerStatsCollector(
      layer.layer,
      layer.view!.experts.length,
      { hidden: ctx.spec.hidden, intermediate: ctx.spec.moeIntermediate },
      { inputs: true },
    );
    await sweep(c.observer());
    const fisher = ctx.params.base === 'fisher' ? await fisherFor(ctx, layer.layer) : null;
    return { layer: c.result(), fisher };
  },
  apply(ctx, layer, stats) {
    const s = stats as D2Stats;
    const out = compressD2Layer({
      view: layer.view!,
      stats: s.layer,
      fisher: s.fisher,
      params: ctx.params,
      rank: ctx.knobs.rank!,
    });
    const store = ctx.scratch.get(FISHER_KEY) as FisherStore | undefined;
    const layers = d2Layers(ctx.before, ctx.params);
    const first = layers[0]?.layer === layer.layer;
    const record: Record<string, unknown> = {
      ...out.record,
      ...(ctx.knobs.deltaRatio !== undefined ? { deltaRatio: ctx.knobs.deltaRatio } : {}),
      ...(first && store ? { fisherPass: store.info() } : {}),
    };
    if (store) {
      store.delete(layer.layer);
      if (layers[layers.length - 1]?.layer === layer.layer) {
        store.dispose();
        ctx.scratch.delete(FISHER_KEY);
      }
    }
    return { override: { moe: out.view }, record };
  },
};
