// Drives one pipeline step's implementation by hand, the way the v2 runner does (plan pass over every
// layer, decide, then per layer touches → collect → apply → install → propagate), so method tests do
// not depend on the runner. `sweep` runs the current layer over every calibration batch.

import type {
  AnyMethodDeclaration,
  CurrentLayer,
  LayerSweep,
  StepContext,
} from '../../src-main/engine/methods/method';
import {
  type ExecutorOptions,
  type HiddenBatch,
  StreamingExecutor,
} from '../../src-main/engine/model/executor';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import type { LoadedModel } from '../../src-main/engine/model/model';
import type { LayerObserver, LayerOverride, MoeLayerView } from '../../src-main/engine/model/types';
import { solveStep } from '../../src-main/engine/pipeline/budget';
import { type ModelPlanState, stateFromSpec, stateParams } from '../../src-main/engine/pipeline/plan-state';

export interface DrivenStep {
  params: unknown;
  knobs: Record<string, number>;
  before: ModelPlanState;
  planned: ModelPlanState;
  decision: unknown;
  summaries: Map<number, unknown>;
  overrides: Map<number, LayerOverride>;
  records: Map<number, Record<string, unknown>>;
}

export interface DriveOptions {
  batch?: number;
  exec?: Omit<ExecutorOptions, 'overrides'>;
  /** knob values instead of solving the params (budget-style) */
  knobs?: Record<string, number>;
  /** extra StepContext fields (e.g. whole-model access `run` for gradient statistics), given the live overrides */
  context?(overrides: ReadonlyMap<number, LayerOverride>): Record<string, unknown>;
}

export function batchesOf(calibration: number[][], batch: number): number[][][] {
  const out: number[][][] = [];
  for (let i = 0; i < calibration.length; i += batch) out.push(calibration.slice(i, i + batch));
  return out;
}

/** Run `obs` on layer l over every batch of `xs` (the inputs of layer l). */
export async function sweepLayer(
  exec: StreamingExecutor,
  l: number,
  xs: HiddenBatch[],
  obs: LayerObserver,
  opts?: { allExperts?: boolean; routerOnly?: boolean },
): Promise<void> {
  for (const x of xs) (await exec.runLayer(l, x, obs, opts ?? {})).dispose();
}

/** Push every batch through layer l (consuming the inputs). */
export async function propagate(
  exec: StreamingExecutor,
  l: number,
  xs: HiddenBatch[],
): Promise<HiddenBatch[]> {
  const out: HiddenBatch[] = [];
  for (const x of xs) {
    const y = await exec.runLayer(l, x, {});
    x.hidden.dispose();
    out.push({ ...x, hidden: y });
  }
  return out;
}

export async function driveStep(
  model: LoadedModel,
  decl: AnyMethodDeclaration,
  raw: unknown,
  calibration: number[][],
  opts: DriveOptions = {},
): Promise<DrivenStep> {
  const { spec } = model;
  const params = decl.params.parse(raw);
  const before = stateFromSpec(spec);
  let knobs: Record<string, number>;
  let planned: ModelPlanState;
  if (opts.knobs) {
    knobs = opts.knobs;
    const k = knobs[decl.knob.name];
    planned = k === undefined ? before : decl.knob.apply(params, before, k);
  } else {
    const p = solveStep({ decl, params }, { kind: 'fixed' }, before, stateParams(before), 0, null);
    knobs = p.knobs;
    planned = p.state;
  }
  const impl = await decl.load();
  const ctx: StepContext<unknown> = {
    spec,
    params,
    knobs,
    planned,
    before,
    decision: null,
    step: 0,
    scratch: new Map(),
  };
  const overrides = new Map<number, LayerOverride>();
  if (opts.context) Object.assign(ctx, opts.context(overrides));
  const records = new Map<number, Record<string, unknown>>();
  const summaries = new Map<number, unknown>();
  const exec = new StreamingExecutor(model, { ...(opts.exec ?? {}), overrides });
  const embedAll = () => batchesOf(calibration, opts.batch ?? 3).map((b) => exec.embed(b));
  const current = (l: number): { layer: CurrentLayer; owned: MoeLayerView | null } => {
    const o = overrides.get(l);
    const kind = spec.layerKinds[l]!;
    const ffnDropped = o?.skipFfn === true;
    const blockDropped = o?.skipBlock === true;
    let view: MoeLayerView | null = null;
    let owned: MoeLayerView | null = null;
    if (kind === 'moe' && !ffnDropped && !blockDropped) {
      if (o?.moe) view = o.moe;
      else view = owned = readMoeView(model, l);
    }
    return { layer: { layer: l, kind, view, ffnDropped, blockDropped, plan: before.layers[l]! }, owned };
  };
  const sweepFor =
    (l: number, xs: HiddenBatch[]): LayerSweep =>
    (obs, o) =>
      sweepLayer(exec, l, xs, obs, o);
  try {
    if (impl.planLayer) {
      let xs = embedAll();
      for (let l = 0; l < spec.layers; l++) {
        const { layer, owned } = current(l);
        try {
          summaries.set(l, await impl.planLayer(ctx, layer, sweepFor(l, xs)));
        } finally {
          if (owned) disposeMoeView(owned);
        }
        xs = await propagate(exec, l, xs);
      }
      for (const x of xs) x.hidden.dispose();
      ctx.decision = impl.decide?.(ctx, summaries) ?? null;
    }
    let xs = embedAll();
    for (let l = 0; l < spec.layers; l++) {
      const { layer, owned } = current(l);
      try {
        if (impl.touches(ctx, layer)) {
          const stats = impl.collect ? await impl.collect(ctx, layer, sweepFor(l, xs)) : null;
          const r = await impl.apply(ctx, layer, stats);
          if (r.override) {
            const prev = overrides.get(l);
            if (prev?.moe && prev.moe !== r.override.moe) disposeMoeView(prev.moe);
            overrides.set(l, r.override);
          }
          records.set(l, r.record);
        }
      } finally {
        // the borrowed view goes away before the new layer runs: the result must own its tensors
        if (owned) disposeMoeView(owned);
      }
      xs = await propagate(exec, l, xs);
    }
    for (const x of xs) x.hidden.dispose();
  } finally {
    exec.dispose();
  }
  return { params, knobs, before, planned, decision: ctx.decision, summaries, overrides, records };
}

export function disposeOverrides(overrides: Map<number, LayerOverride>): void {
  for (const o of overrides.values()) if (o.moe) disposeMoeView(o.moe);
  overrides.clear();
}
