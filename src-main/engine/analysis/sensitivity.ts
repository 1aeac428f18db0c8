// Per-layer sensitivity: each MoE layer compressed alone by one method at one ratio, and the
// perplexity change against the unmodified model on the same evaluation windows. Each layer is a
// one-step pipeline through the ordinary runner restricted to that layer (RunOptions.onlyLayers), so
// the step does exactly what it would in a compress run (its statistics on the layer's real inputs,
// its plan pass, its knob rounding); the other layers run unchanged.
//
// `ratio` is the share of the layer's routed part (expert matrices and router rows) to remove. It is
// handed to the step as its own whole-model ratio on the restricted model, ratio · E_l / T_l, so the
// budget rule picks the knob whose layer size is closest (METHODS §2.2 rounding). A step whose params
// fix the knob (rank, expertsRemoved, …) runs with it, and `ratio` is then only reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SensitivityRecord } from '../../contract/analyses';
import { EngineError } from '../errors';
import { perplexity } from '../eval/perplexity';
import { getMethod } from '../methods/catalog';
import type { LoadedModel } from '../model/model';
import { type PipelineConfig, parsePipelineConfig } from '../pipeline/config';
import { type LayerPlanState, layerStateOf, liveMoeLayers, stateParams } from '../pipeline/plan-state';
import { disposeOverrides, initialState, restrictTo, runPipeline } from '../pipeline/runner';

export interface SensitivityOptions {
  model: LoadedModel;
  /** the model folder (the step config's `model`) */
  modelDir: string;
  method: string;
  params: Record<string, unknown>;
  ratio: number;
  /** MoE layers to analyse (default: every live MoE layer) */
  layers?: readonly number[];
  calibration: PipelineConfig['calibration'];
  sequences: number[][];
  evalTokens: ArrayLike<number>;
  seqLen: number;
  maxWindows?: number;
  batch?: number;
  /** scratch folder for the runner's work files (default: a temporary one, removed afterwards) */
  workDir?: string;
  signal?: AbortSignal;
  onProgress?(p: { layer: number | null; done: number; total: number; message: string }): void;
  onBaseline?(ppl: number): void;
  onLayer?(r: SensitivityRecord): void;
}

export interface SensitivityResult {
  baselinePpl: number;
  records: SensitivityRecord[];
  seconds: number;
}

/** Routed-expert parameters of a layer: expert matrices plus router rows. */
const routedParams = (l: LayerPlanState) =>
  l.ffnDropped || l.blockDropped ? 0 : l.expertParams + l.experts * l.routerRow;

export async function layerSensitivity(o: SensitivityOptions): Promise<SensitivityResult> {
  const t0 = performance.now();
  if (!(o.ratio >= 0 && o.ratio < 1))
    throw new EngineError(`ratio must be in [0, 1), got ${o.ratio}`, { field: 'ratio' });
  const decl = getMethod(o.method, 'method');
  if (o.params.ratio !== undefined)
    throw new EngineError('the analysis sets the step amount from its own ratio; remove params.ratio', {
      field: 'params.ratio',
    });
  const state0 = initialState(o.model, 4);
  const live = liveMoeLayers(state0).map((l) => l.layer);
  const layers = o.layers ?? live;
  for (const l of layers)
    if (!live.includes(l))
      throw new EngineError(`layer ${l} is not a live MoE layer; allowed: ${live.join(', ') || 'none'}`, {
        field: 'layers',
      });
  const evalOpts = {
    seqLen: o.seqLen,
    ...(o.maxWindows !== undefined ? { maxWindows: o.maxWindows } : {}),
    ...(o.batch !== undefined ? { batch: o.batch } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const total = layers.length + 1;
  o.onProgress?.({ layer: null, done: 0, total, message: 'baseline perplexity' });
  const baseline = (await perplexity(o.model, o.evalTokens, evalOpts)).ppl;
  o.onBaseline?.(baseline);
  const root = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'moe-sensitivity-'));
  const records: SensitivityRecord[] = [];
  try {
    for (const [i, l] of layers.entries()) {
      const tl = performance.now();
      o.onProgress?.({ layer: l, done: i + 1, total, message: `layer ${l}: ${o.method}` });
      const restricted = restrictTo(state0, [l]);
      const T = stateParams(restricted);
      const before = routedParams(state0.layers[l]!);
      // bad params are reported by the config parse below, with the field named
      const parsed = decl.params.safeParse(o.params);
      const fixed = parsed.success && decl.knob.fixed(parsed.data, restricted) !== null;
      const params = fixed ? o.params : { ...o.params, ratio: (o.ratio * before) / T };
      const config = parsePipelineConfig({
        version: 2,
        name: `sensitivity ${o.method} layer ${l}`,
        model: o.modelDir,
        calibration: o.calibration,
        steps: [{ method: o.method, params }],
      });
      const workDir = path.join(root, `layer-${l}`);
      const r = await runPipeline({
        model: o.model,
        config,
        calibration: o.sequences,
        workDir,
        onlyLayers: [l],
        ...(o.signal ? { signal: o.signal } : {}),
      });
      try {
        const step = r.plan.steps[0]!;
        const afterLayer = routedParams(layerStateOf(state0.layers[l]!, r.overrides.get(l)));
        // an untouched model is the baseline itself: same windows, same numbers
        const ppl =
          r.overrides.size === 0
            ? baseline
            : (await perplexity(o.model, o.evalTokens, { ...evalOpts, overrides: r.overrides })).ppl;
        const rec: SensitivityRecord = {
          analysis: 'sensitivity',
          layer: l,
          method: o.method,
          ratio: o.ratio,
          knobs: step.knobs,
          noop: r.overrides.size === 0,
          paramsBefore: before,
          paramsAfter: afterLayer,
          achievedRatio: before > 0 ? 1 - afterLayer / before : 0,
          baselinePpl: baseline,
          ppl,
          deltaPpl: ppl - baseline,
          relativeDelta: ppl / baseline - 1,
          seconds: (performance.now() - tl) / 1000,
        };
        if (!Number.isFinite(ppl))
          throw new EngineError(`perplexity after compressing layer ${l} is ${ppl}`, {
            field: `layers.${l}`,
          });
        records.push(rec);
        o.onLayer?.(rec);
      } finally {
        disposeOverrides(r.overrides);
        fs.rmSync(workDir, { recursive: true, force: true });
      }
    }
  } finally {
    if (!o.workDir) fs.rmSync(root, { recursive: true, force: true });
  }
  return { baselinePpl: baseline, records, seconds: (performance.now() - t0) / 1000 };
}
