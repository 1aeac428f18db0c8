// The analysis jobs (`analysis.<kind>`): each records one layer record per analysed layer in the
// contract's shape (contract/analyses.ts) and a few headline metrics, and returns the records.
import type {
  AnalysisKind,
  EnergyRecord,
  EntropyRecord,
  RoutingRecord,
  SensitivityRecord,
  SimilarityRecord,
} from '../../contract/analyses';
import { forEachLayer, type SweptLayer } from '../analysis/calibration-sweep';
import { type ExpertGrams, layerEnergy } from '../analysis/energy';
import { ckaMatrix, ExpertOutputCollector } from '../analysis/output-cka';
import { entropyRecord, RoutingCollector, routingRecord } from '../analysis/routing-stats';
import { layerSensitivity } from '../analysis/sensitivity';
import { LayerStatsCollector } from '../calibration/layer-stats';
import { EngineError } from '../errors';
import { resolverFor } from '../io/resolver';
import { sourceTokens } from '../io/token-source';
import { loadTokenizer } from '../io/tokenizer';
import { weightSimilarity } from '../methods/merge/similarity';
import { type LoadedModel, openModel } from '../model/model';
import { calibrationTokens } from '../pipeline/calibration-data';
import type { AnalysisParams } from './analysis.params';
import type { JobContext } from './job-context';

export interface AnalysisResult<R> {
  runId: number | null;
  analysis: AnalysisKind;
  model: string;
  records: R[];
  seconds: number;
  /** sensitivity only: the unmodified model's perplexity on the evaluation windows */
  baselinePpl?: number;
}

interface Opened {
  model: LoadedModel;
  modelDir: string;
  /** the calibration block with its text file resolved */
  calibration: AnalysisParams<AnalysisKind>['calibration'];
  sequences: number[][];
}

async function withModel<R>(
  ctx: JobContext,
  kind: AnalysisKind,
  params: AnalysisParams<AnalysisKind>,
  body: (o: Opened) => Promise<{ records: R[]; baselinePpl?: number }>,
): Promise<AnalysisResult<R>> {
  const t0 = performance.now();
  const resolver = resolverFor(params);
  const modelDir = resolver.resolveModel(params.model);
  const calibration = { ...params.calibration };
  if (calibration.text) calibration.text = resolver.resolvePath(calibration.text);
  const model = openModel(modelDir);
  try {
    ctx.progress({ step: 'calibration data', fraction: 0 });
    const { sequences } = await calibrationTokens(modelDir, calibration, { resolver });
    const out = await body({ model, modelDir, calibration, sequences });
    const seconds = (performance.now() - t0) / 1000;
    ctx.progress({ step: 'done', fraction: 1 });
    return { runId: ctx.runId, analysis: kind, model: modelDir, ...out, seconds };
  } finally {
    model.checkpoint.close();
  }
}

/** Visits the requested MoE layers with the calibration sweep, recording what `visit` returns. */
async function perLayer<R extends { layer: number }>(
  ctx: JobContext,
  o: Opened,
  params: AnalysisParams<AnalysisKind>,
  visit: (l: SweptLayer & { view: NonNullable<SweptLayer['view']> }) => Promise<R>,
): Promise<R[]> {
  const moe = o.model.spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
  const layers = params.layers ?? moe;
  for (const l of layers)
    if (!moe.includes(l))
      throw new EngineError(`layer ${l} is not a MoE layer; allowed: ${moe.join(', ')}`, { field: 'layers' });
  const records: R[] = [];
  await forEachLayer(
    o.model,
    o.sequences,
    params.calibration.batch,
    async (sl) => {
      ctx.throwIfCancelled();
      const t = performance.now();
      ctx.progress({
        step: 'analyse',
        layer: sl.layer,
        layers: o.model.spec.layers,
        fraction: sl.layer / o.model.spec.layers,
      });
      if (!sl.view) return; // a MoE sub-layer an earlier compression dropped
      const rec = await visit(sl as SweptLayer & { view: NonNullable<SweptLayer['view']> });
      records.push(rec);
      ctx.record.layer(
        sl.layer,
        rec as unknown as Record<string, unknown>,
        (performance.now() - t) / 1000,
        0,
      );
    },
    { signal: ctx.signal, layers },
  );
  return records;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function runRouting(ctx: JobContext, params: AnalysisParams<'routing'>) {
  return withModel<RoutingRecord>(ctx, 'routing', params, async (o) => {
    const records = await perLayer(ctx, o, params, async (sl) => {
      const c = new RoutingCollector(sl.layer, sl.view.experts.length);
      await sl.sweep(c.observer());
      return routingRecord(c.result(), params.minTokens);
    });
    ctx.record.metric('expertCoverage', mean(records.map((r) => r.coverage)), {
      unit: 'fraction',
      headline: true,
    });
    return { records };
  });
}

export async function runEntropy(ctx: JobContext, params: AnalysisParams<'entropy'>) {
  return withModel<EntropyRecord>(ctx, 'entropy', params, async (o) => {
    const records = await perLayer(ctx, o, params, async (sl) => {
      const c = new RoutingCollector(sl.layer, sl.view.experts.length);
      await sl.sweep(c.observer());
      return entropyRecord(c.result());
    });
    ctx.record.metric('routerEntropy', mean(records.map((r) => r.meanTokenEntropy)), {
      unit: 'nats',
      headline: true,
    });
    return { records };
  });
}

export async function runSimilarity(ctx: JobContext, params: AnalysisParams<'similarity'>) {
  return withModel<SimilarityRecord>(ctx, 'similarity', params, async (o) => {
    const available = o.sequences.reduce((a, s) => a + s.length, 0);
    const n = Math.min(params.ckaTokens, available);
    const records = await perLayer(ctx, o, params, async (sl) => {
      const N = sl.view.experts.length;
      const c = new ExpertOutputCollector(sl.layer, N, o.model.spec.hidden, n);
      await sl.sweep(c.observer(), { allExperts: true, maxTokens: n, onBatch: (off) => c.startBatch(off) });
      return {
        analysis: 'similarity' as const,
        layer: sl.layer,
        experts: N,
        weightCosine: weightSimilarity(sl.view.experts).cosine,
        outputCka: ckaMatrix(c.outputs, c.tokens, o.model.spec.hidden),
        ckaTokens: c.tokens,
      };
    });
    return { records };
  });
}

export async function runEnergy(ctx: JobContext, params: AnalysisParams<'energy'>) {
  return withModel<EnergyRecord>(ctx, 'energy', params, async (o) => {
    const records = await perLayer(ctx, o, params, async (sl) => {
      if (!params.whitened) return layerEnergy(sl.view);
      const c = new LayerStatsCollector(
        sl.layer,
        sl.view.experts.length,
        { hidden: o.model.spec.hidden, intermediate: o.model.spec.moeIntermediate },
        { inputs: true },
      );
      await sl.sweep(c.observer());
      const grams: ExpertGrams[] = c.result().experts.map((e) => ({
        input: e.tokens > 0 && e.input ? e.input.gram : null,
        intermediate: e.tokens > 0 && e.intermediate ? e.intermediate.gram : null,
      }));
      return layerEnergy(sl.view, grams);
    });
    return { records };
  });
}

export async function runSensitivity(ctx: JobContext, params: AnalysisParams<'sensitivity'>) {
  return withModel<SensitivityRecord>(ctx, 'sensitivity', params, async (o) => {
    const resolver = resolverFor(params);
    const tok = await loadTokenizer(o.modelDir);
    const ev = params.evaluation;
    const { ids } = await sourceTokens({ dataset: ev.dataset }, resolver, tok, 'evaluation.');
    const r = await layerSensitivity({
      model: o.model,
      modelDir: o.modelDir,
      method: params.method,
      params: params.params,
      ratio: params.ratio,
      ...(params.layers ? { layers: params.layers } : {}),
      calibration: o.calibration,
      sequences: o.sequences,
      evalTokens: ids,
      seqLen: ev.seqLen,
      ...(ev.maxWindows !== undefined ? { maxWindows: ev.maxWindows } : {}),
      ...(ev.batch !== undefined ? { batch: ev.batch } : {}),
      signal: ctx.signal,
      onProgress: (p) => {
        ctx.throwIfCancelled();
        ctx.progress({
          step: p.message,
          layer: p.layer,
          layers: o.model.spec.layers,
          fraction: p.done / p.total,
        });
      },
      onBaseline: (ppl) => ctx.record.metric('ppl', ppl, { dataset: ev.dataset, headline: true }),
      onLayer: (rec) =>
        ctx.record.layer(rec.layer, rec as unknown as Record<string, unknown>, rec.seconds, 0),
    });
    const worst = r.records.reduce<SensitivityRecord | null>(
      (a, b) => (a && a.deltaPpl >= b.deltaPpl ? a : b),
      null,
    );
    if (worst) ctx.record.metric('maxLayerDeltaPpl', worst.deltaPpl, { dataset: ev.dataset, headline: true });
    return { records: r.records, baselinePpl: r.baselinePpl };
  });
}
