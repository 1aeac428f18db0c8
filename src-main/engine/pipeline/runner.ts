// Runner v2: any number of steps of any family, in config order (ARCHITECTURE "Pipelines v2").
//
//   plan   the whole-model budget is split between the steps from shapes (budget.ts); refused when
//          unreachable, before any compute
//   step s the knob is re-solved on the model as the previous steps left it (exact accounting of the
//          actual views, so data-dependent choices of earlier steps are honoured), then
//          [plan pass]  every layer of the current model swept once (global thresholds, sensitivity,
//                       similarity) → the step's decision
//          layer l      statistics on the inputs the current layers 0..l-1 produce (earlier steps and
//                       the already-processed layers of this step, §2.7) → apply → persist (s, l)
//                       atomically → propagate the calibration batch through the new layer l
//
// Memory: one layer's weights plus the calibration activations, whatever the model size. Every
// finished (step, layer) is in `<workDir>/steps/<s>/`; `progress.json` names the last one, so a
// cancelled or killed run resumes at the first unfinished (step, layer) with a bit-identical result.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError, EngineError } from '../errors';
import { SafetensorsFile } from '../io/safetensors';
import { writeSafetensors } from '../io/safetensors-writer';
import { getMethod } from '../methods/catalog';
import type {
  AnyMethodDeclaration,
  CurrentLayer,
  LayerSweep,
  StepContext,
  StepImplementation,
} from '../methods/method';
import { type HiddenBatch, StreamingExecutor } from '../model/executor';
import { type ViewManifest, viewEntries, viewFromManifest } from '../model/layer-manifest';
import { disposeMoeView, moeViewTensors, readMoeView } from '../model/layer-weights';
import type { LoadedModel } from '../model/model';
import { sourceLayerOverride } from '../model/source-layer';
import type { LayerOverride, MoeLayerView, Tensor1D, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import {
  assertReachable,
  type BudgetPlan,
  budgetMeasure,
  planBudget,
  type StepAmount,
  solveStep,
  stepAmounts,
} from './budget';
import type { PipelineConfig } from './config';
import { checkMemory, estimateRunMemory } from './memory-preflight';
import {
  layerStateOf,
  type ModelPlanState,
  stateFromSpec,
  stateNonzeros,
  stateParams,
  stateWeightBytes,
  stateWithOverrides,
} from './plan-state';

export interface RunProgress {
  /** phase: plan, calibrate, compress, propagate, done */
  phase: string;
  /** 0-based index of the running step, and the number of steps */
  step: number;
  steps: number;
  method: string | null;
  layer: number | null;
  layers: number;
  fraction: number;
  etaSeconds: number | null;
  /** "step 2/3 · expert-prune · layer 5/16" */
  message: string;
}

export interface RunOptions {
  model: LoadedModel;
  /** the resolved config (parsePipelineConfig) */
  config: PipelineConfig;
  calibration: number[][];
  workDir: string;
  signal?: AbortSignal;
  /** continue from `<workDir>/progress.json` when it exists (and matches the config) */
  resume?: boolean;
  /** bytes per stored parameter of the export (weight-bytes accounting); default 4 */
  bytesPerParam?: number;
  /**
   * Restrict every step to these layers (per-layer sensitivity): the others run unchanged, and the
   * budget and the steps see them as having no MoE sub-layer, so knobs are solved on these layers only.
   */
  onlyLayers?: readonly number[];
  /** for the memory pre-flight; default os.freemem() */
  availableMemoryBytes?: number;
  onProgress?(p: RunProgress): void;
  onLayer?(step: number, layer: number, record: Record<string, unknown>, seconds: number): void;
}

export interface StepRun {
  method: string;
  family: string;
  amount: StepAmount;
  /** knob values solved on the actual state when the step started (empty for a no-op) */
  knobs: Record<string, number>;
  noop: boolean;
  /** the plan pass's decision (layers chosen, global counts, sensitivities …) */
  decision: unknown;
  paramsAfter: number | null;
  weightBytesAfter: number | null;
  /** params minus the entries slimming zeroed */
  nonzerosAfter?: number | null;
}

/** plan.json: what the run decided, so a resume continues the same way. */
export interface RunPlan {
  version: 2;
  key: string;
  paramsBefore: number;
  targetRatio: number | null;
  tolerance: number;
  /** the shape plan before anything ran */
  planned: { method: string; knobs: Record<string, number>; paramsAfter: number; noop: boolean }[];
  steps: (StepRun | null)[];
}

export interface RunResult {
  plan: RunPlan;
  paramsBefore: number;
  paramsAfter: number;
  weightBytesBefore: number;
  weightBytesAfter: number;
  nonzerosBefore: number;
  nonzerosAfter: number;
  achievedRatio: number;
  targetRatio: number | null;
  /** set when the achieved ratio misses the target by more than the knobs' rounding explains */
  offTarget: string | null;
  /** final state of every layer the run changed (owned by the caller: disposeOverrides) */
  overrides: Map<number, LayerOverride>;
  /** `${step}:${layer}` → record */
  records: Map<string, Record<string, unknown>>;
  /** (step, layer) the run resumed after, null for a fresh run */
  resumedAfter: { step: number; layer: number } | null;
  seconds: number;
}

interface Progress {
  step: number;
  /** last finished layer of `step`; −1 = the step's plan pass is done, no layer yet */
  layer: number;
}

const stepDir = (w: string, s: number) => path.join(w, 'steps', String(s).padStart(2, '0'));
const layerFile = (w: string, s: number, l: number, ext: string) =>
  path.join(stepDir(w, s), `layer-${String(l).padStart(3, '0')}.${ext}`);

/** temp file + fsync + rename: a torn write never replaces a good file */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new EngineError(`work file is unreadable (${(e as Error).message})`, {
      file,
      field: 'workDir',
      hint: 'delete the work folder to start the run over',
    });
  }
}

function runKey(config: PipelineConfig): string {
  return JSON.stringify({
    model: config.model,
    calibration: config.calibration,
    target: config.target ?? null,
    steps: config.steps,
  });
}

interface PersistedLayer {
  kind: 'moe' | 'skipFfn' | 'skipBlock';
  manifest?: ViewManifest;
  /** sha256 of the layer's safetensors file: a damaged file is detected on resume, not used */
  sha256?: string;
  record: Record<string, unknown>;
  seconds: number;
}

const fileSha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function persistLayer(
  model: LoadedModel,
  workDir: string,
  s: number,
  l: number,
  override: LayerOverride,
  record: Record<string, unknown>,
  seconds: number,
): void {
  fs.mkdirSync(stepDir(workDir, s), { recursive: true });
  const meta: PersistedLayer = {
    kind: override.skipBlock ? 'skipBlock' : override.skipFfn ? 'skipFfn' : 'moe',
    record,
    seconds,
  };
  if (meta.kind === 'moe') {
    const { entries, manifest } = viewEntries(model.spec, override.moe!, 'F32');
    const tmp = `${layerFile(workDir, s, l, 'safetensors')}.tmp-${process.pid}`;
    writeSafetensors(tmp, entries);
    meta.sha256 = fileSha256(tmp);
    fs.renameSync(tmp, layerFile(workDir, s, l, 'safetensors'));
    meta.manifest = manifest;
  }
  writeAtomic(layerFile(workDir, s, l, 'json'), JSON.stringify(meta));
}

function loadPersistedLayer(
  model: LoadedModel,
  workDir: string,
  s: number,
  l: number,
): { override: LayerOverride; meta: PersistedLayer } {
  const jf = layerFile(workDir, s, l, 'json');
  const meta = readJson<PersistedLayer>(jf);
  if (meta.kind === 'skipBlock') return { override: { skipBlock: true }, meta };
  if (meta.kind === 'skipFfn') return { override: { skipFfn: true }, meta };
  const sf = layerFile(workDir, s, l, 'safetensors');
  if (!fs.existsSync(sf) || (meta.sha256 && fileSha256(sf) !== meta.sha256))
    throw new EngineError("a finished layer's work file is damaged (checksum mismatch)", {
      file: sf,
      field: 'workDir',
      hint: 'resume recomputes from this layer on; if this persists, delete the work folder',
    });
  const st = SafetensorsFile.open(sf);
  try {
    const view = viewFromManifest(
      l,
      meta.manifest!,
      model.spec.routing,
      (n) => {
        const shape = st.info(n).shape;
        return (
          shape.length === 1
            ? tf.tensor1d(st.readF32(n))
            : tf.tensor2d(st.readF32(n), shape as [number, number])
        ) as Tensor2D | Tensor1D;
      },
      (data, shape) => tf.tensor2d(data, shape),
    );
    return { override: { moe: view }, meta };
  } finally {
    st.close();
  }
}

/** Free a view's tensors except those the replacement still holds (defensive: results should clone). */
function disposeReplaced(old: MoeLayerView, replacement: LayerOverride | undefined): void {
  const keep = replacement?.moe ? moeViewTensors(replacement.moe) : new Set<tf.Tensor>();
  tf.dispose([...moeViewTensors(old)].filter((t) => !keep.has(t)));
}

/**
 * The last (step, layer) whose own work file and every earlier one are intact: a damaged or missing
 * layer file moves the resume point back to just before it (that layer and the rest of its step are
 * recomputed), so a corrupted file never changes the result silently.
 */
function rewindToIntact(workDir: string, p: Progress, L: number): Progress | null {
  for (let s = 0; s <= p.step; s++) {
    for (let l = 0; l < (s < p.step ? L : p.layer + 1); l++) {
      const jf = layerFile(workDir, s, l, 'json');
      if (!fs.existsSync(jf)) continue;
      let ok = true;
      try {
        const meta = JSON.parse(fs.readFileSync(jf, 'utf8')) as PersistedLayer;
        if (meta.kind === 'moe') {
          const sf = layerFile(workDir, s, l, 'safetensors');
          ok = fs.existsSync(sf) && (!meta.sha256 || fileSha256(sf) === meta.sha256);
        }
      } catch {
        ok = false;
      }
      if (!ok) return l > 0 ? { step: s, layer: l - 1 } : s > 0 ? { step: s - 1, layer: L - 1 } : null;
    }
  }
  return p;
}

/** The initial model state: the spec's, with the stored state of layers a compressed source already changed. */
export function initialState(model: LoadedModel, bytesPerParam: number): ModelPlanState {
  const base = stateFromSpec(model.spec, bytesPerParam);
  return {
    ...base,
    layers: base.layers.map((ls) => {
      const src = sourceLayerOverride(model, ls.layer);
      if (!src) return ls;
      try {
        return layerStateOf(ls, src);
      } finally {
        if (src.moe) disposeMoeView(src.moe);
      }
    }),
  };
}

/**
 * The state in which only `layers` keep their MoE sub-layer: a layer outside is marked
 * ffnDropped for planning only (the executor runs it unchanged, having no override for it).
 */
export function restrictTo(s: ModelPlanState, layers: readonly number[] | undefined): ModelPlanState {
  if (!layers) return s;
  const keep = new Set(layers);
  return { ...s, layers: s.layers.map((l) => (keep.has(l.layer) ? l : { ...l, ffnDropped: true })) };
}

export async function runPipeline(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const { model, config } = o;
  const { spec } = model;
  const L = spec.layers;
  const S = config.steps.length;
  if (o.calibration.length === 0)
    throw new EngineError('no calibration sequences', { field: 'calibration.samples' });
  const decls: AnyMethodDeclaration[] = config.steps.map((s, i) => getMethod(s.method, `steps.${i}.method`));
  const inputs = config.steps.map((s, i) => ({ decl: decls[i]!, params: s.params }));
  const state0 = restrictTo(initialState(model, o.bytesPerParam ?? 4), o.onlyLayers);
  const T = stateParams(state0);
  // the budget's unit: parameters, or weight bytes as exported (target.unit)
  const unit = config.target?.unit ?? 'params';
  const measure = budgetMeasure(unit);
  const M0 = measure(state0);
  const shapePlan: BudgetPlan = planBudget(inputs, state0, config.target ?? {});
  assertReachable(shapePlan);
  const amounts = stepAmounts(inputs, state0, config.target ?? {});
  const impls: StepImplementation<unknown>[] = await Promise.all(decls.map((d) => d.load()));

  fs.mkdirSync(path.join(o.workDir, 'steps'), { recursive: true });
  const planFile = path.join(o.workDir, 'plan.json');
  const progressFile = path.join(o.workDir, 'progress.json');
  const key = o.onlyLayers ? `${runKey(config)} only ${o.onlyLayers.join(',')}` : runKey(config);
  let plan: RunPlan;
  let resumedAfter: Progress | null = null;
  if (o.resume && fs.existsSync(planFile)) {
    const p = readJson<RunPlan>(planFile);
    if (p.version !== 2 || p.key !== key)
      throw new EngineError('the work folder belongs to a different pipeline config; cannot resume', {
        file: planFile,
        field: 'config',
        hint: `delete ${o.workDir} to start over, or use another output folder`,
      });
    plan = p;
    if (fs.existsSync(progressFile))
      resumedAfter = rewindToIntact(o.workDir, readJson<Progress>(progressFile), L);
  } else {
    fs.rmSync(progressFile, { force: true });
    fs.rmSync(path.join(o.workDir, 'steps'), { recursive: true, force: true });
    plan = {
      version: 2,
      key,
      paramsBefore: T,
      targetRatio: shapePlan.targetRatio,
      tolerance: shapePlan.tolerance,
      planned: shapePlan.steps.map((s) => ({
        method: s.method,
        knobs: s.knobs,
        paramsAfter: s.paramsAfter,
        noop: s.noop,
      })),
      steps: config.steps.map(() => null),
    };
    writeAtomic(planFile, `${JSON.stringify(plan, null, 2)}\n`);
  }
  const savePlan = () => writeAtomic(planFile, `${JSON.stringify(plan, null, 2)}\n`);
  const done = (s: number, l: number) =>
    resumedAfter !== null && (s < resumedAfter.step || (s === resumedAfter.step && l <= resumedAfter.layer));

  const overrides = new Map<number, LayerOverride>();
  const records = new Map<string, Record<string, unknown>>();
  const exec = new StreamingExecutor(model, { overrides, ...(o.signal ? { signal: o.signal } : {}) });
  const bsz = config.calibration.batch;
  let batches: HiddenBatch[] = [];
  const embedAll = () => {
    tf.dispose(batches.map((b) => b.hidden));
    batches = [];
    for (let i = 0; i < o.calibration.length; i += bsz)
      batches.push(exec.embed(o.calibration.slice(i, i + bsz)));
  };
  const checkCancel = () => {
    if (o.signal?.aborted) throw new CancelledError();
  };
  // progress: per step a plan pass (if any) and a layer pass, each L units
  const plans = (s: number) => !!impls[s]!.planLayer && (impls[s]!.usesPlanPass?.(inputs[s]!.params) ?? true);
  const unitsOf = (s: number) => (plans(s) ? 2 : 1) * L;
  const totalUnits = impls.reduce((a, _i, s) => a + unitsOf(s), 0);
  let unitsDone = 0;
  const report = (phase: string, s: number, l: number | null) => {
    const fraction = Math.min(1, unitsDone / totalUnits);
    const el = (performance.now() - t0) / 1000;
    const method = s < S ? decls[s]!.id : null;
    o.onProgress?.({
      phase,
      step: s,
      steps: S,
      method,
      layer: l,
      layers: L,
      fraction,
      etaSeconds: fraction > 0 ? (el / fraction) * (1 - fraction) : null,
      message:
        phase === 'done'
          ? 'done'
          : `step ${s + 1}/${S} · ${method} · ${phase}${l !== null ? ` · layer ${l + 1}/${L}` : ''}`,
    });
  };
  const propagate = async (l: number) => {
    for (let i = 0; i < batches.length; i++) {
      const y = await exec.runLayer(l, batches[i]!);
      batches[i]!.hidden.dispose();
      batches[i] = { ...batches[i]!, hidden: y };
    }
  };
  const sweepOf =
    (l: number): LayerSweep =>
    async (observer, opts) => {
      for (const b of batches) {
        checkCancel();
        const y = await exec.runLayer(l, b, observer, opts ?? {});
        y.dispose();
      }
    };
  /** the current state of layer l; its view is read on first use (and freed by `release`) */
  const currentLayer = (l: number, state: ModelPlanState) => {
    const o2 = overrides.get(l);
    let read: MoeLayerView | null = null;
    const plan = state.layers[l]!;
    const live = plan.kind === 'moe' && !plan.ffnDropped && !plan.blockDropped;
    const cur: CurrentLayer = {
      layer: l,
      kind: spec.layerKinds[l]!,
      ffnDropped: plan.ffnDropped,
      blockDropped: plan.blockDropped,
      plan,
      get view() {
        if (!live) return null;
        if (o2?.moe) return o2.moe;
        if (!read) read = sourceLayerOverride(model, l)?.moe ?? readMoeView(model, l);
        return read;
      },
    };
    return { cur, release: (replacement?: LayerOverride) => read && disposeReplaced(read, replacement) };
  };

  try {
    // reinstall what a previous attempt finished: per layer, its latest persisted (step, layer)
    if (resumedAfter) {
      for (let l = 0; l < L; l++) {
        for (let s = Math.min(resumedAfter.step, S - 1); s >= 0; s--) {
          if (!done(s, l) || !fs.existsSync(layerFile(o.workDir, s, l, 'json'))) continue;
          const p = loadPersistedLayer(model, o.workDir, s, l);
          overrides.set(l, p.override);
          break;
        }
        for (let s = 0; s <= Math.min(resumedAfter.step, S - 1); s++) {
          if (done(s, l) && fs.existsSync(layerFile(o.workDir, s, l, 'json')))
            records.set(`${s}:${l}`, readJson<PersistedLayer>(layerFile(o.workDir, s, l, 'json')).record);
        }
      }
    }
    let cum = 0;
    for (let s = 0; s < S; s++) {
      const a = amounts[s]!;
      if (a.kind === 'share') cum += a.contribution;
      const impl = impls[s]!;
      const before = stateWithOverrides(state0, overrides);
      if (resumedAfter && s < resumedAfter.step) {
        unitsDone += unitsOf(s);
        continue;
      }
      let run = plan.steps[s];
      if (!run) {
        const solved = solveStep(inputs[s]!, a, before, M0, cum, config.target?.ratio ?? null, s, unit);
        run = {
          method: decls[s]!.id,
          family: decls[s]!.family,
          amount: a,
          knobs: solved.knobs,
          noop: solved.noop,
          decision: null,
          paramsAfter: null,
          weightBytesAfter: null,
        };
        plan.steps[s] = run;
        savePlan();
      }
      if (run.noop) {
        unitsDone += unitsOf(s);
        run.paramsAfter = stateParams(before);
        run.weightBytesAfter = stateWeightBytes(before);
        run.nonzerosAfter = stateNonzeros(before);
        savePlan();
        continue;
      }
      const planned = decls[s]!.knob.apply(inputs[s]!.params, before, run.knobs[decls[s]!.knob.name] ?? 0);
      const ctx: StepContext<unknown> = {
        spec,
        params: inputs[s]!.params,
        knobs: run.knobs,
        planned,
        before,
        decision: run.decision ?? null,
        step: s,
        scratch: new Map(),
        run: {
          model,
          calibration: o.calibration,
          batch: bsz,
          overrides,
          dir: path.join(stepDir(o.workDir, s), 'scratch'),
          ...(o.signal ? { signal: o.signal } : {}),
        },
      };
      checkMemory(
        estimateRunMemory(
          spec,
          { ...config.calibration, samples: o.calibration.length },
          decls[s]!.statsBytes?.(
            inputs[s]!.params,
            spec,
            before,
            { samples: o.calibration.length, seqLen: config.calibration.seqLen },
            run.knobs,
          ) ?? 0,
        ),
        o.availableMemoryBytes,
      );
      const planDone = resumedAfter !== null && resumedAfter.step === s && resumedAfter.layer >= -1;
      if (plans(s) && !planDone) {
        embedAll();
        const summaries = new Map<number, unknown>();
        for (let l = 0; l < L; l++) {
          checkCancel();
          report('plan', s, l);
          const { cur, release } = currentLayer(l, before);
          try {
            if (!cur.blockDropped) summaries.set(l, await impl.planLayer!(ctx, cur, sweepOf(l)));
          } finally {
            release();
          }
          await propagate(l);
          unitsDone += 1;
        }
        run.decision = impl.decide ? impl.decide(ctx, summaries) : Object.fromEntries(summaries);
        ctx.decision = run.decision;
        savePlan();
        writeAtomic(progressFile, JSON.stringify({ step: s, layer: -1 } satisfies Progress));
      } else if (plans(s)) unitsDone += L;
      ctx.scratch.clear();

      embedAll();
      // the state as this step goes: layer l's entry follows its override once the step replaced it
      let state = stateWithOverrides(state0, overrides);
      // §10.6 'dense': the next layer's inputs come from layer l as it stood before this step
      const denseCal = impl.calibrateOn?.(inputs[s]!.params) === 'dense';
      for (let l = 0; l < L; l++) {
        checkCancel();
        const tl = performance.now();
        let propagated = false;
        if (done(s, l) && denseCal && fs.existsSync(layerFile(o.workDir, s, l, 'json'))) {
          // resumed: layer l already holds this step's result; propagate through its earlier state
          const mine = overrides.get(l);
          let prior: LayerOverride | undefined;
          for (let s2 = s - 1; s2 >= 0 && !prior; s2--)
            if (fs.existsSync(layerFile(o.workDir, s2, l, 'json')))
              prior = loadPersistedLayer(model, o.workDir, s2, l).override;
          if (prior) overrides.set(l, prior);
          else overrides.delete(l);
          try {
            report('propagate', s, l);
            await propagate(l);
            propagated = true;
          } finally {
            if (prior?.moe) disposeMoeView(prior.moe);
            if (mine) overrides.set(l, mine);
            else overrides.delete(l);
          }
        }
        if (!done(s, l)) {
          const { cur, release } = currentLayer(l, state);
          let replaced = false;
          try {
            if (impl.touches(ctx, cur)) {
              report('calibrate', s, l);
              const stats = impl.collect ? await impl.collect(ctx, cur, sweepOf(l)) : null;
              checkCancel();
              if (denseCal) {
                report('propagate', s, l);
                await propagate(l);
                propagated = true;
              }
              report('compress', s, l);
              const out = impl.apply(ctx, cur, stats);
              const seconds = (performance.now() - tl) / 1000;
              const record = { method: decls[s]!.id, ...out.record, seconds };
              if (out.override) {
                const old = overrides.get(l);
                overrides.set(l, out.override);
                state = {
                  ...state,
                  layers: state.layers.map((x, i) =>
                    i === l ? layerStateOf(state0.layers[l]!, out.override) : x,
                  ),
                };
                if (old?.moe) disposeReplaced(old.moe, out.override);
                release(out.override);
                replaced = true;
                persistLayer(model, o.workDir, s, l, out.override, record, seconds);
              }
              records.set(`${s}:${l}`, record);
              o.onLayer?.(s, l, record, seconds);
            }
          } finally {
            if (!replaced) release();
          }
        }
        if (!propagated) {
          report('propagate', s, l);
          await propagate(l);
        }
        unitsDone += 1;
        if (!done(s, l)) writeAtomic(progressFile, JSON.stringify({ step: s, layer: l } satisfies Progress));
      }
      const after = stateWithOverrides(state0, overrides);
      run.paramsAfter = stateParams(after);
      run.weightBytesAfter = stateWeightBytes(after);
      run.nonzerosAfter = stateNonzeros(after);
      savePlan();
    }
    report('done', S, null);
  } catch (e) {
    tf.dispose(batches.map((b) => b.hidden));
    disposeOverrides(overrides);
    exec.dispose();
    throw e;
  }
  tf.dispose(batches.map((b) => b.hidden));
  exec.dispose();
  const final = stateWithOverrides(state0, overrides);
  const after = stateParams(final);
  const achieved = M0 === 0 ? 0 : 1 - measure(final) / M0;
  const target = plan.targetRatio;
  const offTarget =
    target !== null && Math.abs(achieved - target) > plan.tolerance + 1e-12
      ? `achieved ratio ${achieved.toFixed(4)} misses the target ${target} by more than the rounding tolerance ${plan.tolerance.toExponential(2)}`
      : null;
  return {
    plan,
    paramsBefore: T,
    paramsAfter: after,
    weightBytesBefore: stateWeightBytes(state0),
    weightBytesAfter: stateWeightBytes(final),
    nonzerosBefore: stateNonzeros(state0),
    nonzerosAfter: stateNonzeros(final),
    achievedRatio: achieved,
    targetRatio: target,
    offTarget,
    overrides,
    records,
    resumedAfter,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function disposeOverrides(overrides: Map<number, LayerOverride>): void {
  for (const o of overrides.values()) if (o.moe) disposeMoeView(o.moe);
  overrides.clear();
}
