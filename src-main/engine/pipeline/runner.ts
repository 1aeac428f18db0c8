// Runner v1: executes a one-step low-rank pipeline layer by layer (ARCHITECTURE "layer-streaming"):
// for layer l, statistics are collected on the inputs the already-compressed layers 0..l-1 produce,
// layer l is compressed and installed as an executor override, and the calibration batch is pushed
// through the compressed layer to feed l+1. Methods with a plan pass (MoE-SVD) first sweep the dense
// model. Each finished layer is persisted at once to `<workDir>/layers/` (factors in f32 + a JSON
// record) and `progress.json` names the last finished layer, so an interrupted run resumes there.
import fs from 'node:fs';
import path from 'node:path';
import { type LayerStats, LayerStatsCollector, type StatsNeeds } from '../calibration/layer-stats';
import { CancelledError, EngineError } from '../errors';
import { type LayerManifest, layerEntries } from '../model/factored-format';
import { factoredLayerView } from '../model/factored-model';
import { SafetensorsFile } from '../io/safetensors';
import { writeSafetensors } from '../io/safetensors-writer';
import { rankFromKeepRatio } from '../methods/lowrank/rank';
import { getMethod } from '../methods/registry';
import type { CompressionMethod, MoeShape } from '../methods/types';
import { type HiddenBatch, StreamingExecutor } from '../model/executor';
import { disposeMoeView, readMoeView } from '../model/layer-weights';
import type { LoadedModel } from '../model/model';
import type { LayerOverride, MoeLayerView, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import {
  checkpointParams,
  compressionRatio,
  denseExpertParams,
  solveUniformRank,
  type UniformRankSolution,
  viewExpertParams,
} from './accounting';
import type { PipelineConfig } from './config';
import { checkMemory, estimateRunMemory } from './memory-preflight';

export interface RunProgress {
  step: string;
  layer: number | null;
  layers: number;
  fraction: number;
  etaSeconds: number | null;
  message?: string;
}

export interface RunOptions {
  model: LoadedModel;
  config: PipelineConfig;
  calibration: number[][];
  workDir: string;
  signal?: AbortSignal;
  /** continue from `<workDir>/progress.json` when it exists (and matches the config) */
  resume?: boolean;
  /** for the memory pre-flight; default os.freemem() */
  availableMemoryBytes?: number;
  onProgress?(p: RunProgress): void;
  onLayer?(layer: number, record: Record<string, unknown>, seconds: number): void;
}

export interface RunPlan {
  version: 1;
  key: string;
  method: string;
  /** rank of every decomposed matrix, null when nothing is decomposed */
  rank: number | null;
  layers: number[];
  paramsBefore: number;
  predictedAfter: number;
  targetRatio: number | null;
  sensitivity?: Record<string, number>;
  planSummaries?: Record<string, Record<string, number>>;
}

export interface RunResult {
  plan: RunPlan;
  paramsBefore: number;
  paramsAfter: number;
  achievedRatio: number;
  overrides: Map<number, LayerOverride>;
  manifests: Map<number, LayerManifest>;
  records: Map<number, Record<string, unknown>>;
  /** layer the run resumed after, null for a fresh run */
  resumedAfter: number | null;
  seconds: number;
}

const layerFile = (dir: string, l: number, ext: string) =>
  path.join(dir, 'layers', `layer-${String(l).padStart(3, '0')}.${ext}`);

function moeShape(model: LoadedModel): MoeShape {
  const s = model.spec;
  return { hidden: s.hidden, intermediate: s.moeIntermediate, experts: s.experts, topK: s.routing.topK };
}

function planKey(config: PipelineConfig): string {
  return JSON.stringify({
    model: config.model,
    calibration: config.calibration,
    target: config.target ?? null,
    step: config.steps[0],
  });
}

/** Decide layers and rank (§2.2 semantics for a whole-model target; §5.2 layer selection for plan methods). */
export function solvePlan(
  method: CompressionMethod,
  params: { ratio?: number; keepRatio?: number; rank?: number } & Record<string, unknown>,
  shape: MoeShape,
  moeLayers: number[],
  before: number,
  targetRatio: number | null,
  sensitivity?: Map<number, number>,
): Pick<RunPlan, 'rank' | 'layers' | 'predictedAfter' | 'targetRatio'> {
  const unitLayer = method.unitPerRank(shape, params);
  const cap = method.rankCap(shape, params);
  const dense = denseExpertParams(shape);
  const fixedRank =
    params.rank !== undefined
      ? Math.min(params.rank, shape.hidden, shape.intermediate)
      : params.keepRatio !== undefined
        ? Math.max(1, rankFromKeepRatio(params.keepRatio, shape.intermediate, shape.hidden))
        : null;
  let eligible = moeLayers;
  if (sensitivity) {
    const protect = (params.protectEdges as boolean | undefined) ?? false;
    eligible = moeLayers
      .filter((_l, i) => !protect || moeLayers.length <= 2 || (i !== 0 && i !== moeLayers.length - 1))
      .sort((a, b) => sensitivity.get(a)! - sensitivity.get(b)! || a - b);
  }
  const after = (layers: number[], r: number) =>
    before - layers.length * dense + layers.length * r * unitLayer;
  if (fixedRank !== null) {
    const layers = [...eligible].sort((a, b) => a - b);
    return { rank: fixedRank, layers, predictedAfter: after(layers, fixedRank), targetRatio: null };
  }
  const ratio = params.ratio ?? targetRatio;
  if (ratio === null || ratio === undefined)
    throw new EngineError('no compression amount', { field: 'target.ratio' });
  const solve = (layers: number[]): UniformRankSolution =>
    solveUniformRank({
      before,
      kept: before - layers.length * dense,
      unit: layers.length * unitLayer,
      ratio,
      cap,
    });
  if (eligible.length === 0)
    throw new EngineError('the model has no MoE layer the method may decompose', { field: 'steps[0]' });
  let chosen = eligible;
  let sol = solve(eligible);
  if (sensitivity) {
    const minRank = Math.max(
      1,
      Math.ceil(
        ((params.layerRankFraction as number | undefined) ?? 0.5) *
          Math.min(shape.hidden, shape.intermediate),
      ),
    );
    // smallest layer set whose exact rank r* lies in [minRank, cap]; when none does (a layer at full
    // rank already saves more than the target needs), the set whose achieved ratio is closest
    const t = (1 - ratio) * before;
    let best: { d: number; s: UniformRankSolution } | null = null;
    for (let d = 1; d <= eligible.length; d++) {
      const s = solve(eligible.slice(0, d));
      if (s.kind === 'unchanged') {
        best = { d, s };
        break;
      }
      const real = (t - (before - d * dense)) / (d * unitLayer);
      if (real >= minRank && real <= cap + 0.5) {
        best = { d, s };
        break;
      }
      if (!best || Math.abs(s.after - t) < Math.abs(best.s.after - t)) best = { d, s };
    }
    chosen = eligible.slice(0, best!.d);
    sol = best!.s;
  }
  if (sol.kind === 'unchanged') return { rank: null, layers: [], predictedAfter: before, targetRatio: ratio };
  const layers = [...chosen].sort((a, b) => a - b);
  return { rank: sol.rank, layers, predictedAfter: sol.after, targetRatio: ratio };
}

function loadPersistedLayer(
  model: LoadedModel,
  workDir: string,
  l: number,
): { view: MoeLayerView; manifest: LayerManifest; record: Record<string, unknown> } {
  const jf = layerFile(workDir, l, 'json');
  const meta = JSON.parse(fs.readFileSync(jf, 'utf8')) as {
    manifest: LayerManifest;
    record: Record<string, unknown>;
  };
  const st = SafetensorsFile.open(layerFile(workDir, l, 'safetensors'));
  try {
    const view = factoredLayerView(
      model,
      l,
      meta.manifest,
      (n) => tf.tensor2d(st.readF32(n), st.info(n).shape as [number, number]),
      jf,
    );
    return { view, manifest: meta.manifest, record: meta.record };
  } finally {
    st.close();
  }
}

export async function runPipeline(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const { model, config } = o;
  const { spec } = model;
  const step = config.steps[0]! as { method: string; params: unknown };
  const method = getMethod(step.method);
  const params = step.params as Record<string, unknown> & {
    ratio?: number;
    keepRatio?: number;
    rank?: number;
  };
  const shape = moeShape(model);
  const moeLayers = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
  const L = spec.layers;
  const needs: StatsNeeds = method.needs(params);
  checkMemory(
    estimateRunMemory(spec, { ...config.calibration, samples: o.calibration.length }, needs.inputs === true),
    o.availableMemoryBytes,
  );
  if (o.calibration.length === 0)
    throw new EngineError('no calibration sequences', { field: 'calibration.samples' });

  fs.mkdirSync(path.join(o.workDir, 'layers'), { recursive: true });
  const planFile = path.join(o.workDir, 'plan.json');
  const progressFile = path.join(o.workDir, 'progress.json');
  const key = planKey(config);
  let plan: RunPlan | null = null;
  let resumedAfter: number | null = null;
  if (o.resume && fs.existsSync(planFile)) {
    const p = JSON.parse(fs.readFileSync(planFile, 'utf8')) as RunPlan;
    if (p.key !== key)
      throw new EngineError('the work folder belongs to a different pipeline config; cannot resume', {
        file: planFile,
        field: 'config',
        hint: `delete ${o.workDir} to start over, or use another output folder`,
      });
    plan = p;
    if (fs.existsSync(progressFile))
      resumedAfter = (JSON.parse(fs.readFileSync(progressFile, 'utf8')) as { lastFinishedLayer: number })
        .lastFinishedLayer;
  } else {
    fs.rmSync(progressFile, { force: true });
  }

  const overrides = new Map<number, LayerOverride>();
  const exec = new StreamingExecutor(model, { overrides, ...(o.signal ? { signal: o.signal } : {}) });
  const bsz = config.calibration.batch;
  const embedAll = (): HiddenBatch[] => {
    const out: HiddenBatch[] = [];
    for (let i = 0; i < o.calibration.length; i += bsz) out.push(exec.embed(o.calibration.slice(i, i + bsz)));
    return out;
  };
  let units = 0;
  let totalUnits = 1;
  const report = (stepName: string, layer: number | null, message?: string) => {
    const fraction = Math.min(1, units / totalUnits);
    const el = (performance.now() - t0) / 1000;
    o.onProgress?.({
      step: stepName,
      layer,
      layers: L,
      fraction,
      etaSeconds: fraction > 0 ? (el / fraction) * (1 - fraction) : null,
      ...(message ? { message } : {}),
    });
  };
  const checkCancel = () => {
    if (o.signal?.aborted) throw new CancelledError();
  };
  /** run layer l on every batch; `keep` replaces the batches with the outputs */
  const sweep = async (
    batches: HiddenBatch[],
    l: number,
    obs: Parameters<StreamingExecutor['runLayer']>[2],
    keep: boolean,
  ) => {
    for (let i = 0; i < batches.length; i++) {
      const y = await exec.runLayer(l, batches[i]!, obs);
      if (keep) {
        batches[i]!.hidden.dispose();
        batches[i] = { ...batches[i]!, hidden: y };
      } else y.dispose();
    }
  };
  const collect = async (batches: HiddenBatch[], l: number, n: StatsNeeds): Promise<LayerStats> => {
    const c = new LayerStatsCollector(
      l,
      spec.experts,
      { hidden: spec.hidden, intermediate: spec.moeIntermediate },
      n,
    );
    await sweep(batches, l, c.observer(), false);
    return c.result();
  };

  const before = checkpointParams(model);
  const records = new Map<number, Record<string, unknown>>();
  const manifests = new Map<number, LayerManifest>();
  let batches: HiddenBatch[] = [];
  try {
    if (!plan) {
      let sensitivity: Map<number, number> | undefined;
      let planSummaries: Record<string, Record<string, number>> | undefined;
      const ratioDriven = params.rank === undefined && params.keepRatio === undefined;
      if (method.planPass) {
        sensitivity = new Map();
        planSummaries = {};
        totalUnits = 2 * L;
        batches = embedAll();
        for (let l = 0; l < L; l++) {
          checkCancel();
          report('plan', l, `sensitivity of layer ${l}`);
          if (spec.layerKinds[l] === 'moe' && (ratioDriven || method.planPass)) {
            const first = await collect(batches, l, method.planPass.needs(params));
            const secondNeeds = method.planPass.secondPass?.(params, first) ?? null;
            const stats = secondNeeds ? await collect(batches, l, secondNeeds) : first;
            const view = readMoeView(model, l);
            try {
              const s = method.planPass.summarize({ layer: l, stats, view }, params);
              sensitivity.set(l, s.sensitivity ?? 0);
              planSummaries[String(l)] = s;
            } finally {
              disposeMoeView(view);
            }
          }
          await sweep(batches, l, undefined, true);
          units += 1;
        }
        tf.dispose(batches.map((b) => b.hidden));
        batches = [];
      }
      const solved = solvePlan(
        method,
        params,
        shape,
        moeLayers,
        before,
        config.target?.ratio ?? null,
        sensitivity,
      );
      plan = {
        version: 1,
        key,
        method: method.id,
        ...solved,
        paramsBefore: before,
        ...(sensitivity
          ? { sensitivity: Object.fromEntries([...sensitivity].map(([l, s]) => [String(l), s])) }
          : {}),
        ...(planSummaries ? { planSummaries } : {}),
      };
      fs.writeFileSync(planFile, `${JSON.stringify(plan, null, 2)}\n`);
    }
    const decomposed = new Set(plan.layers);
    units = 0;
    totalUnits = Array.from({ length: L }, (_, l) => (decomposed.has(l) ? 3 : 1)).reduce((a, b) => a + b, 0);

    // resume: reinstall persisted layers, then re-propagate through them
    if (resumedAfter !== null) {
      for (const l of plan.layers) {
        if (l > resumedAfter) continue;
        const p = loadPersistedLayer(model, o.workDir, l);
        overrides.set(l, { moe: p.view });
        manifests.set(l, p.manifest);
        records.set(l, p.record);
      }
    }
    batches = embedAll();
    for (let l = 0; l < L; l++) {
      checkCancel();
      const tl = performance.now();
      if (decomposed.has(l) && (resumedAfter === null || l > resumedAfter)) {
        report('calibrate', l, `statistics of layer ${l}`);
        const stats = await collect(batches, l, needs);
        units += 1;
        checkCancel();
        report('compress', l, `${method.id} rank ${plan.rank} on layer ${l}`);
        const view = readMoeView(model, l);
        let out: ReturnType<CompressionMethod['compressLayer']>;
        try {
          out = method.compressLayer({ view, stats, rank: plan.rank!, params, plan });
        } finally {
          disposeMoeView(view);
        }
        overrides.set(l, { moe: out.view });
        const { entries, manifest } = layerEntries(spec, out.view, 'F32');
        writeSafetensors(layerFile(o.workDir, l, 'safetensors'), entries);
        const seconds = (performance.now() - tl) / 1000;
        const record = {
          ...out.record,
          paramsDense: denseExpertParams(shape),
          paramsFactored: viewExpertParams(out.view),
          ...(plan.sensitivity ? { sensitivity: plan.sensitivity[String(l)] } : {}),
          seconds,
        };
        fs.writeFileSync(layerFile(o.workDir, l, 'json'), JSON.stringify({ manifest, record }));
        manifests.set(l, manifest);
        records.set(l, record);
        units += 1;
        o.onLayer?.(l, record, seconds);
      }
      report('propagate', l);
      await sweep(batches, l, undefined, true);
      units += 1;
      if (resumedAfter === null || l > resumedAfter)
        fs.writeFileSync(progressFile, JSON.stringify({ lastFinishedLayer: l }));
    }
    report('done', null);
  } catch (e) {
    tf.dispose(batches.map((b) => b.hidden));
    disposeOverrides(overrides);
    exec.dispose();
    throw e;
  }
  tf.dispose(batches.map((b) => b.hidden));
  exec.dispose();
  let after = before;
  for (const l of plan.layers) after += viewExpertParams(overrides.get(l)!.moe!) - denseExpertParams(shape);
  return {
    plan,
    paramsBefore: before,
    paramsAfter: after,
    achievedRatio: compressionRatio(before, after),
    overrides,
    manifests,
    records,
    resumedAfter,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function disposeOverrides(overrides: Map<number, LayerOverride>): void {
  for (const o of overrides.values()) if (o.moe) disposeMoeView(o.moe);
  overrides.clear();
}

export type { Tensor2D };
