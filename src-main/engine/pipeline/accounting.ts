// Exact whole-model parameter accounting (METHODS §2.1, §6). "Before" is the sum of every tensor
// shape in the checkpoint (embeddings, lm_head unless tied, attention, norms, routers, shared
// experts, dense layers, routed experts) — the same total `moe-bench inspect` prints. Decomposition
// replaces only routed experts, so "after" = before − dense routed-expert params of the decomposed
// layers + the factor params actually stored, each distinct tensor counted once (a shared V once).
import { EngineError } from '../errors';
import type { LoadedModel } from '../model/model';
import type { Linear, MoeLayerView } from '../model/types';
import type { tf } from '../tensor/backend';

const FILE = 'engine/pipeline/accounting';

export function checkpointParams(model: LoadedModel): number {
  let total = 0;
  for (const name of model.checkpoint.names())
    total += model.checkpoint.info(name).shape.reduce((a, b) => a * b, 1);
  return total;
}

/** Shapes of one routed expert's three matrices (HF [out, in]). */
export interface ExpertShape {
  hidden: number;
  intermediate: number;
  experts: number;
}

/** Dense params of the routed experts of one MoE layer: N · 3·h·I. */
export function denseExpertParams(s: ExpertShape): number {
  return s.experts * 3 * s.hidden * s.intermediate;
}

function linearTensors(L: Linear): tf.Tensor[] {
  const t: tf.Tensor[] = L.kind === 'dense' ? [L.w] : L.kind === 'factored' ? [L.A, L.B] : [L.base, L.A, L.B];
  if ('bias' in L && L.bias) t.push(L.bias);
  return t;
}

/** Params of the routed experts of a view, each distinct tensor object once. */
export function viewExpertParams(view: MoeLayerView): number {
  const seen = new Set<tf.Tensor>();
  for (const e of view.experts)
    for (const L of [e.gate, e.up, e.down]) for (const t of linearTensors(L)) seen.add(t);
  let n = 0;
  for (const t of seen) n += t.size;
  return n;
}

export function compressionRatio(before: number, after: number): number {
  return before === 0 ? 0 : 1 - after / before;
}

export interface UniformRankProblem {
  /** whole-model params before compression */
  before: number;
  /** params that stay as they are (everything except the decomposed routed experts) */
  kept: number;
  /** params added per unit of rank, summed over every decomposed layer */
  unit: number;
  /** wanted compression ratio a ∈ [0, 1) */
  ratio: number;
  /** largest admissible rank (break-even cap) */
  cap: number;
}

export type UniformRankSolution =
  | { kind: 'unchanged'; after: number; achieved: number }
  | { kind: 'rank'; rank: number; after: number; achieved: number };

/**
 * §2.2 D-step: target t = (1 − a)·before; if the step would have to add parameters (t ≥ current −
 * 0.5) it is a no-op; otherwise r* = (t − kept)/unit and, among floor/ceil/round-half-up of r* each
 * clamped to [1, cap], the rank whose parameter count is closest to t (first wins a tie).
 */
export function solveUniformRank(p: UniformRankProblem): UniformRankSolution {
  if (!(p.ratio >= 0 && p.ratio < 1))
    throw new EngineError(`must be in [0, 1), got ${p.ratio}`, { file: FILE, field: 'ratio' });
  if (!(p.unit > 0) || !(p.cap >= 1)) {
    throw new EngineError(`nothing to decompose (unit ${p.unit}, rank cap ${p.cap})`, {
      file: FILE,
      field: 'layers',
    });
  }
  const t = (1 - p.ratio) * p.before;
  if (Math.abs(t - p.before) <= 0.5 || t > p.before + 0.5)
    return { kind: 'unchanged', after: p.before, achieved: 0 };
  const real = (t - p.kept) / p.unit;
  const clamp = (r: number) => Math.min(p.cap, Math.max(1, r));
  let best = clamp(Math.floor(real));
  for (const r of [clamp(Math.ceil(real)), clamp(Math.floor(real + 0.5))]) {
    if (Math.abs(p.kept + r * p.unit - t) < Math.abs(p.kept + best * p.unit - t)) best = r;
  }
  const after = p.kept + best * p.unit;
  return { kind: 'rank', rank: best, after, achieved: compressionRatio(p.before, after) };
}
