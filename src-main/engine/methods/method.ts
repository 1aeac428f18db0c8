// The step contract every compression family implements (ARCHITECTURE "Pipelines v2").
//
// A method is two files: a *declaration* (`<id>.params.ts`, no tfjs import, so the main process can
// validate configs and plan budgets without loading tfjs) and an *implementation* (`<id>.ts`, loaded
// lazily by the engine worker through `declaration.load()`). One line in `methods/catalog.ts` lists it.
//
// The declaration says what the step is worth in parameters (its knob and accounting, from shapes
// only); the implementation works on the *current* state of a layer — the output of every previous
// step and of the already-processed layers of its own step — never on the original checkpoint.
import type { z } from 'zod';
import type { LoadedModel } from '../model/model';
import type { LayerObserver, LayerOverride, ModelSpec, MoeLayerView } from '../model/types';
import type { StepMemory } from '../pipeline/memory-preflight';
import type { LayerPlanState, ModelPlanState } from '../pipeline/plan-state';

/**
 * Family letters (keys of `target.contributions`): P expert pruning, M expert merging, D low-rank
 * decomposition, T trimming of whole sub-layers or blocks, S slimming (sparsity), Q quantization.
 */
export const FAMILIES = ['P', 'M', 'D', 'T', 'S', 'Q'] as const;
export type Family = (typeof FAMILIES)[number];

/** A step's integer knob, as the budget solver and `moe-bench plan` see it. */
export interface KnobSpec<P> {
  /** name printed in plan output (`expertsRemoved`, `groups`, `rank`, `layersDropped`, …) */
  name: string;
  /**
   * Knob set directly by the params (an explicit rank, count, …), or null when the whole-model
   * budget decides it. A step whose params say neither takes part in the budget split.
   */
  fixed(p: P, s: ModelPlanState): number | null;
  /** admissible range of the knob on this state (inclusive) */
  range(p: P, s: ModelPlanState): [number, number];
  /** the planned state after the step with knob value k (shapes only, exact accounting) */
  apply(p: P, s: ModelPlanState, k: number): ModelPlanState;
  /**
   * Optional closed-form or joint solve (MoE-SVD picks layer count and rank together). Returns the
   * knob values to print and the state; the generic solver is used when absent.
   */
  solve?(
    p: P,
    s: ModelPlanState,
    targetParams: number,
  ): { knobs: Record<string, number>; state: ModelPlanState };
  /** extra knob values derived from k, printed next to it (e.g. MoE-SVD's layer count) */
  describe?(p: P, s: ModelPlanState, k: number): Record<string, number>;
}

export interface MethodDeclaration<P = unknown> {
  id: string;
  family: Family;
  title: string;
  description: string;
  /** the single declaration of the method's parameters (defaults + .describe docs) */
  params: z.ZodType<P>;
  knob: KnobSpec<P>;
  /**
   * Why this step cannot run on the given state (e.g. low-rank on already factored experts), or null.
   * Called at validation, before any compute.
   */
  check?(p: P, s: ModelPlanState): string | null;
  /**
   * Memory pre-flight: bytes of statistics the step holds for a whole layer at once, or — for a
   * step that works expert by expert — its per-expert schedule (phases and what it keeps); default 0
   */
  statsBytes?(
    p: P,
    spec: ModelSpec,
    s: ModelPlanState,
    calibration: { samples: number; seqLen: number },
    knobs: Record<string, number>,
  ): number | StepMemory;
  /** the engine-side implementation (imports tfjs) */
  load(): Promise<StepImplementation<P>>;
}

/** Runs one layer of the current model on every calibration batch with an observer attached. */
/**
 * One pass of the calibration batches through the layer. `routerOnly`: the MoE blocks stop after
 * the router (no expert runs), for observers that need only routing and MoE inputs.
 */
export type LayerSweep = (
  observer: LayerObserver,
  opts?: { allExperts?: boolean; routerOnly?: boolean },
) => Promise<void>;

/**
 * Whole-model access for a step whose statistics need more than one layer's sweep (a gradient pass:
 * D²-MoE's Fisher). Read-only: the step must not install overrides itself.
 */
export interface StepRun {
  model: LoadedModel;
  /** the run's calibration sequences (token ids) */
  calibration: readonly (readonly number[])[];
  /** sequences per calibration batch */
  batch: number;
  /** the overrides as they stand (live: layers this step replaced appear as it goes) */
  overrides: ReadonlyMap<number, LayerOverride>;
  /** a folder for this step that survives a resume of the run (removed when the run starts afresh) */
  dir: string;
  signal?: AbortSignal;
}

/** What a step implementation sees of the run. */
export interface StepContext<P> {
  spec: ModelSpec;
  params: P;
  /** solved knob values (from the budget or the params) */
  knobs: Record<string, number>;
  /** planned state after this step (per layer: experts kept, rank, dropped …) */
  planned: ModelPlanState;
  /** the model state before this step */
  before: ModelPlanState;
  /** what the plan pass decided (JSON, persisted in plan.json), null without a plan pass */
  decision: unknown;
  /** the step's index in the pipeline */
  step: number;
  /** scratch space that lives for one step of one run (e.g. hidden states kept across plan-pass layers); never persisted */
  scratch: Map<string, unknown>;
  /** whole-model access (absent when a caller drives the step without a model, e.g. some tests) */
  run?: StepRun;
}

/** The current state of one layer: its MoE view (null when the MoE sub-layer or block is gone, or dense). */
export interface CurrentLayer {
  layer: number;
  kind: 'moe' | 'dense';
  /** current routed experts; borrowed — clone what the result keeps */
  view: MoeLayerView | null;
  ffnDropped: boolean;
  blockDropped: boolean;
  plan: LayerPlanState;
}

export interface LayerResult {
  /** the layer's new state; omitted = unchanged */
  override?: LayerOverride;
  /** JSON-serialisable record for the store (scores, kept experts, errors, …) */
  record: Record<string, unknown>;
}

export interface StepImplementation<P> {
  /**
   * Optional pass over every layer of the current model before the step changes anything (global
   * thresholds, MoE-SVD sensitivity, Layer/Block Drop similarity). Called layer by layer in order,
   * with the layer's inputs as the current model produces them; returns a JSON summary per layer.
   */
  planLayer?(ctx: StepContext<P>, layer: CurrentLayer, sweep: LayerSweep): Promise<unknown>;
  /** whether these params use the plan pass (default: yes when planLayer exists) */
  usesPlanPass?(params: P): boolean;
  /** turns the per-layer summaries into the step's decision (JSON, stored in plan.json) */
  decide?(ctx: StepContext<P>, summaries: Map<number, unknown>): unknown;
  /** whether the step touches layer l at all (untouched layers are only propagated) */
  touches(ctx: StepContext<P>, layer: CurrentLayer): boolean;
  /**
   * Statistics for one layer, collected on the inputs the current layers 0..l-1 produce. The method
   * may sweep more than once (a second pass fed by the first).
   */
  collect?(ctx: StepContext<P>, layer: CurrentLayer, sweep: LayerSweep): Promise<unknown>;
  /**
   * the new layer from its current state and statistics; pure, owns every tensor it returns (a
   * promise when part of the work runs on another thread)
   */
  apply(ctx: StepContext<P>, layer: CurrentLayer, stats: unknown): LayerResult | Promise<LayerResult>;
  /**
   * Which inputs the later layers of this step calibrate on (METHODS §10.6): 'compressed' (default)
   * = through the layers this step already replaced; 'dense' = as the model stood before the step
   * (the Unified reference's separate state dict).
   */
  calibrateOn?(params: P): 'dense' | 'compressed';
}

// biome-ignore lint/suspicious/noExplicitAny: heterogeneous registry
export type AnyMethodDeclaration = MethodDeclaration<any>;
