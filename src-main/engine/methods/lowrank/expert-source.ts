// Where an expert-by-expert step reads a layer's experts from. A plain checkpoint layer is read one
// expert at a time (readExpert: decoded bf16/f16 → f32 on access, freed when that expert is done);
// a layer that is already a view in memory — an earlier step's override, a workbench-format stored
// view, or a caller that drives the step without a model — is borrowed as it is.
import type { Matrix32 } from '../../linalg/matrix';
import { toTensor } from '../../linalg/matrix';
import { disposeMoeView, readExpert, readMoeShell } from '../../model/layer-weights';
import type { ExpertWeights, MoeLayerView } from '../../model/types';
import { tf } from '../../tensor/backend';
import { withExperts } from '../expert-factorize';
import type { CurrentLayer, StepContext } from '../method';

export interface BorrowedExpert {
  weights: ExpertWeights;
  /** frees what was read for this expert (nothing when borrowed from a view) */
  release(): void;
}

export interface ExpertSource {
  /** routed experts of the layer */
  count: number;
  /** 'checkpoint' = read per expert; 'view' = borrowed from a view already in memory */
  kind: 'checkpoint' | 'view';
  expert(e: number): BorrowedExpert;
  /**
   * The layer's new view from host factors (one tensor each, created here; the list is emptied as
   * they are made); router and shared expert carried over.
   */
  finish(factors: ExpertFactors[]): MoeLayerView;
}

export interface Factors {
  A: Matrix32;
  B: Matrix32;
}

export type ExpertFactors = Record<'gate' | 'up' | 'down', Factors>;

/** Tensors from host factors, consuming the list: each expert's host copy is dropped once its tensors exist. */
function toExperts(factors: ExpertFactors[]): ExpertWeights[] {
  const made: tf.Tensor[] = [];
  const t = (m: Matrix32) => {
    const x = toTensor(m);
    made.push(x);
    return x;
  };
  const out: ExpertWeights[] = [];
  try {
    for (let f = factors.shift(); f; f = factors.shift()) {
      out.push({
        gate: { kind: 'factored', A: t(f.gate.A), B: t(f.gate.B) },
        up: { kind: 'factored', A: t(f.up.A), B: t(f.up.B) },
        down: { kind: 'factored', A: t(f.down.A), B: t(f.down.B) },
      });
    }
    return out;
  } catch (e) {
    tf.dispose(made);
    throw e;
  }
}

function fromView(view: MoeLayerView): ExpertSource {
  return {
    count: view.experts.length,
    kind: 'view',
    expert: (e) => ({ weights: view.experts[e]!, release: () => {} }),
    finish: (factors) => withExperts(view, toExperts(factors)),
  };
}

export function expertSource<P>(ctx: StepContext<P>, layer: CurrentLayer): ExpertSource {
  const run = ctx.run;
  const l = layer.layer;
  const inMemory = !run || run.overrides.get(l)?.moe !== undefined || run.model.stored?.layers.has(l);
  if (inMemory) {
    const view = layer.view;
    if (!view) throw new Error(`layer ${l} has no MoE view to decompose`);
    return fromView(view);
  }
  const model = run.model;
  return {
    count: model.spec.experts,
    kind: 'checkpoint',
    expert: (e) => {
      const weights = readExpert(model, l, e);
      return {
        weights,
        release: () =>
          tf.dispose([weights.gate, weights.up, weights.down].map((L) => (L as { w: tf.Tensor }).w)),
      };
    },
    finish: (factors) => {
      const shell = readMoeShell(model, l);
      try {
        shell.experts = toExperts(factors);
      } catch (e) {
        disposeMoeView(shell);
        throw e;
      }
      return shell;
    },
  };
}
