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
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError, EngineError } from '../errors';
import { getMethod } from '../methods/catalog';
import type {
  AnyMethodDeclaration,
  CurrentLayer,
  LayerSweep,
  StepContext,
  StepImplementation,
} from '../methods/method';
import { StreamingExecutor } from '../model/executor';
import { disposeMoeView, moeViewTensors, readMoeView } from '../model/layer-weights';
import type { LoadedModel } from '../model/model';
import { sourceLayerOverride } from '../model/source-layer';
import type { LayerOverride, MoeLayerView } from '../model/types';
import { tf } from '../tensor/backend';
import { activationBudgetBytes, CalibrationActivations } from './activation-spill';
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
import { LayerOverrideStore } from './override-store';
import {
  type LayerPlanState,
  layerStateOf,
  type ModelPlanState,
  stateFromSpec,
  stateNonzeros,
  stateParams,
  stateWeightBytes,
} from './plan-state';
import {
  fileSha256,
  layerFile,
  loadPersistedLayer,
  type PersistedLayer,
  persistLayer,
  readJson,
  stepDir,
  writeAtomic,
} from './work-files';

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
  /**
   * Calibration activations kept in memory; the batches beyond spill to `<workDir>/activations/`.
   * Default MOE_ACTIVATION_BUDGET_MB, else a quarter of os.totalmem().
   */
  activationBudgetBytes?: number;
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
  /**
   * final state of every layer the run changed, read lazily from the work folder (so it must outlive
   * their use); owned by the caller: disposeOverrides. Starts with residentLimit = Infinity (every
   * layer read stays valid, as in a Map); streaming readers may lower it. Export needs none resident:
   * it reads persisted layers' tensors from their work files (persistedAt).
   */
  overrides: LayerOverrideStore;
  /** `${step}:${layer}` → record */
  records: Map<string, Record<string, unknown>>;
  /** (step, layer) the run resumed after, null for a fresh run */
  resumedAfter: { step: number; layer: number } | null;
  /** calibration batches that did not fit the activation budget and went through disk (last pass) */
  spilledBatches: number;
  seconds: number;
}

interface Progress {
  step: number;
  /** last finished layer of `step`; −1 = the step's plan pass is done, no layer yet */
  layer: number;
}

function runKey(config: PipelineConfig): string {
  return JSON.stringify({
    model: config.model,
    calibration: config.calibration,
    target: config.target ?? null,
    steps: config.steps,
  });
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

  // finished layers live in the work folder: in memory only the one just propagated (and the
  // layer being processed, pinned while a step reads it)
  const overrides = new LayerOverrideStore(model, o.workDir, 1);
  // the plan state of every layer in `overrides`, so the state is known without reading them back
  const layerStates = new Map<number, LayerPlanState>();
  const install = (l: number, ov: LayerOverride) => {
    overrides.set(l, ov);
    layerStates.set(l, layerStateOf(state0.layers[l]!, ov));
  };
  // = stateWithOverrides(state0, overrides)
  const stateNow = (): ModelPlanState => ({
    ...state0,
    layers: state0.layers.map((ls) => layerStates.get(ls.layer) ?? ls),
  });
  const records = new Map<string, Record<string, unknown>>();
  const exec = new StreamingExecutor(model, { overrides, ...(o.signal ? { signal: o.signal } : {}) });
  const bsz = config.calibration.batch;
  const batches = new CalibrationActivations(
    path.join(o.workDir, 'activations'),
    o.activationBudgetBytes ?? activationBudgetBytes(),
  );
  const embedAll = () => {
    batches.reset();
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
      const x = batches.read(i);
      let y: tf.Tensor2D;
      try {
        y = await exec.runLayer(l, x.batch);
      } finally {
        x.release();
      }
      batches.replace(i, y);
    }
  };
  const sweepOf =
    (l: number): LayerSweep =>
    async (observer, opts) => {
      for (let i = 0; i < batches.length; i++) {
        checkCancel();
        const x = batches.read(i);
        try {
          const y = await exec.runLayer(l, x.batch, observer, opts ?? {});
          y.dispose();
        } finally {
          x.release();
        }
      }
    };
  /** the current state of layer l; its view is read on first use (and freed by `release`) */
  const currentLayer = (l: number, state: ModelPlanState) => {
    // layer l's override as the step found it, read back (and pinned) on first use of the view
    let o2: LayerOverride | undefined;
    let fetched = false;
    const given = () => {
      if (!fetched) {
        fetched = true;
        o2 = overrides.get(l);
        if (o2) overrides.pin(l);
      }
      return o2;
    };
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
        const ov = overrides.has(l) ? given() : undefined;
        if (ov?.moe) return ov.moe;
        if (!read) read = sourceLayerOverride(model, l)?.moe ?? readMoeView(model, l);
        return read;
      },
    };
    return {
      cur,
      release: (replacement?: LayerOverride) => {
        if (fetched) overrides.unpin(l);
        if (read) disposeReplaced(read, replacement);
      },
    };
  };

  try {
    // reinstall what a previous attempt finished: per layer, its latest persisted (step, layer)
    if (resumedAfter) {
      for (let l = 0; l < L; l++) {
        for (let s = Math.min(resumedAfter.step, S - 1); s >= 0; s--) {
          if (!done(s, l) || !fs.existsSync(layerFile(o.workDir, s, l, 'json'))) continue;
          const p = loadPersistedLayer(model, o.workDir, s, l);
          install(l, p.override);
          overrides.persisted(l, s);
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
      const before = stateNow();
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
      let state = stateNow();
      // §10.6 'dense': the next layer's inputs come from layer l as it stood before this step
      const denseCal = impl.calibrateOn?.(inputs[s]!.params) === 'dense';
      for (let l = 0; l < L; l++) {
        checkCancel();
        const tl = performance.now();
        let propagated = false;
        if (done(s, l) && denseCal && fs.existsSync(layerFile(o.workDir, s, l, 'json'))) {
          // resumed: layer l already holds this step's result; propagate through its earlier state
          const mine = overrides.take(l);
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
            if (mine) overrides.restore(l, mine);
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
              const out = await impl.apply(ctx, cur, stats);
              const seconds = (performance.now() - tl) / 1000;
              const record = { method: decls[s]!.id, ...out.record, seconds };
              if (out.override) {
                // what layer l held before, if in memory (one never read back needs no freeing)
                const old = overrides.cached(l);
                install(l, out.override);
                state = {
                  ...state,
                  layers: state.layers.map((x, i) => (i === l ? layerStates.get(l)! : x)),
                };
                if (old?.moe) disposeReplaced(old.moe, out.override);
                release(out.override);
                replaced = true;
                persistLayer(model, o.workDir, s, l, out.override, record, seconds);
                overrides.persisted(l, s);
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
      const after = stateNow();
      run.paramsAfter = stateParams(after);
      run.weightBytesAfter = stateWeightBytes(after);
      run.nonzerosAfter = stateNonzeros(after);
      savePlan();
    }
    report('done', S, null);
  } catch (e) {
    batches.reset();
    disposeOverrides(overrides);
    exec.dispose();
    throw e;
  }
  const spilledBatches = batches.spilled;
  batches.reset();
  exec.dispose();
  // the caller's readers (export, the decoder) may hold every layer at once
  overrides.residentLimit = Number.POSITIVE_INFINITY;
  const final = stateNow();
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
    spilledBatches,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function disposeOverrides(overrides: Map<number, LayerOverride>): void {
  // a store frees what it holds in memory, without reading the persisted layers back to free them
  if (overrides instanceof LayerOverrideStore) {
    overrides.dispose();
    return;
  }
  for (const o of overrides.values()) if (o.moe) disposeMoeView(o.moe);
  overrides.clear();
}
