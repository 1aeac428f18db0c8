// The merged MoE view of one layer (METHODS §2.6 steps 4–5): one routed expert per group, fused per
// projection by the rule; router row (and bias entry) of a group = the unweighted mean of its
// members' rows; top-k ← min(top-k, groups); `sources` = the members' original ids, leader first;
// the shared expert untouched. Owns every tensor it returns: singletons, shared experts and any
// factor every member holds as the same tensor object (MoE-SVD's shared V, D²-MoE's base) are
// cloned once (tf.clone shares the data), so a shared factor stays one object.
//
// Factored experts (D before M):
// * 'factors' (reference): A and B fused separately with the same rule — not the fusion of A·B.
// * 'reconstruct': the products A_i·B_i are fused and re-factorised at the same rank by a truncated
//   SVD (S = I). A group whose members hold the same A and B needs neither.
// Delta experts (base + A·B): the base is fused like a dense matrix (when not common to the group),
// the delta as a factored one.
import type { z } from 'zod';
import { EngineError } from '../../errors';
import { fromTensor, toTensor } from '../../linalg/matrix';
import type {
  ExpertWeights,
  Linear,
  MoeLayerView,
  RoutingSpec,
  SharedExpertView,
  Tensor1D,
  Tensor2D,
} from '../../model/types';
import { tf } from '../../tensor/backend';
import { factorizeLowRank } from '../lowrank/factorize';
import { identityScale } from '../lowrank/scaling';
import type { SvdOptions } from '../params-common';
import { type FusionRule, fuse } from './fusion';

export type FactoredMerge = 'factors' | 'reconstruct';

export interface MergeOptions {
  rule: FusionRule;
  factoredMerge: FactoredMerge;
  svd: z.output<typeof SvdOptions>;
}

function cloner() {
  const memo = new Map<tf.Tensor, tf.Tensor>();
  const t = <T extends tf.Tensor>(x: T): T => {
    let c = memo.get(x);
    if (!c) {
      c = tf.clone(x);
      memo.set(x, c);
    }
    return c as T;
  };
  const lin = (L: Linear): Linear => {
    const withBias = <M extends Linear>(m: M): M => ('bias' in L && L.bias ? { ...m, bias: t(L.bias) } : m);
    switch (L.kind) {
      case 'dense':
      case 'quantized':
        return withBias({ ...L, w: t(L.w) });
      case 'factored':
        return withBias({ kind: 'factored', A: t(L.A), B: t(L.B) });
      case 'delta':
        return { kind: 'delta', base: t(L.base), A: t(L.A), B: t(L.B) };
    }
  };
  const expert = (e: ExpertWeights): ExpertWeights => ({
    gate: lin(e.gate),
    up: lin(e.up),
    down: lin(e.down),
  });
  return { t, lin, expert, memoValues: () => [...memo.values()] };
}

function routingFor(r: RoutingSpec, kept: number, layer: number): RoutingSpec {
  if (r.kind === 'sparsemixer') {
    if (kept < 2)
      throw new EngineError(
        `layer ${layer}: sparsemixer routing needs at least 2 experts, ${kept} groups requested`,
        {
          field: 'steps',
        },
      );
    return r;
  }
  return { ...r, topK: Math.min(r.topK, kept) };
}

const rankOf = (L: Linear) => (L.kind === 'dense' || L.kind === 'quantized' ? null : L.A.shape[1]);

/**
 * The view with one expert per group. `groups`: current expert indices, every expert in exactly one
 * group (leader first); `weights`: per current expert, for frequency-weighted fusion.
 */
export function mergeView(
  view: MoeLayerView,
  groups: readonly (readonly number[])[],
  weights: readonly number[],
  opts: MergeOptions,
): MoeLayerView {
  const N = view.experts.length;
  const seen = new Set<number>();
  for (const g of groups) {
    if (g.length === 0) throw new RangeError('empty group');
    for (const e of g) {
      if (!Number.isInteger(e) || e < 0 || e >= N || seen.has(e))
        throw new RangeError(`groups must partition 0..${N - 1}, got ${JSON.stringify(groups)}`);
      seen.add(e);
    }
  }
  if (seen.size !== N)
    throw new RangeError(`groups must partition 0..${N - 1}, got ${JSON.stringify(groups)}`);
  const routing = routingFor(view.routing, groups.length, view.layer);
  const c = cloner();
  const created: tf.Tensor[] = [];
  const own = <T extends tf.Tensor>(x: T): T => {
    created.push(x);
    return x;
  };
  /** fused tensor of the members' tensors; the common object cloned once when all are the same */
  const fuseT = <T extends tf.Tensor>(ts: readonly T[], w: readonly number[]): T =>
    ts.every((x) => x === ts[0]) ? c.t(ts[0]!) : own(fuse(opts.rule, ts, w));

  const reconstruct = (
    Ls: readonly Linear[],
    w: readonly number[],
    r: number,
  ): { A: Tensor2D; B: Tensor2D } => {
    const fl = Ls as readonly (Linear & { A: Tensor2D; B: Tensor2D })[];
    if (fl.every((L) => L.A === fl[0]!.A) && fl.every((L) => L.B === fl[0]!.B))
      return { A: c.t(fl[0]!.A), B: c.t(fl[0]!.B) };
    const prods = fl.map((L) => tf.matMul(L.A, L.B) as Tensor2D);
    let W: Tensor2D;
    try {
      W = fuse(opts.rule, prods, w);
    } finally {
      tf.dispose(prods);
    }
    try {
      const m = fromTensor(W);
      const f = factorizeLowRank(m, Math.min(r, m.rows, m.cols), identityScale(m.cols), opts.svd);
      return { A: own(toTensor(f.A)), B: own(toTensor(f.B)) };
    } finally {
      W.dispose();
    }
  };

  const mergeLinear = (Ls: readonly Linear[], w: readonly number[], where: string): Linear => {
    // merging quantized or slimmed experts makes new dense weights (no longer on a grid / pattern)
    const kindOf = (L: Linear) => (L.kind === 'quantized' ? 'dense' : L.kind);
    const kind = kindOf(Ls[0]!);
    if (Ls.some((L) => kindOf(L) !== kind))
      throw new EngineError(
        `${where}: cannot merge ${[...new Set(Ls.map((L) => L.kind))].join(' and ')} experts`,
        {
          field: 'steps',
        },
      );
    const r = rankOf(Ls[0]!);
    if (Ls.some((L) => rankOf(L) !== r))
      throw new EngineError(`${where}: members have different ranks (${Ls.map(rankOf).join(', ')})`, {
        field: 'steps',
      });
    const biases = Ls.map((L) => ('bias' in L ? L.bias : undefined));
    const bias = biases.every((b) => b !== undefined) ? fuseT(biases as Tensor1D[], w) : undefined;
    if (!bias && biases.some((b) => b !== undefined))
      throw new EngineError(`${where}: some members have a bias and some do not`, { field: 'steps' });
    const withBias = <M extends Linear>(m: M): M => (bias ? { ...m, bias } : m);
    switch (kind) {
      case 'dense':
        return withBias({
          kind: 'dense',
          w: fuseT(
            Ls.map((L) => (L as { w: Tensor2D }).w),
            w,
          ),
        });
      case 'factored': {
        const fl = Ls as readonly (Linear & { A: Tensor2D; B: Tensor2D })[];
        const ab =
          opts.factoredMerge === 'reconstruct'
            ? reconstruct(Ls, w, r!)
            : {
                A: fuseT(
                  fl.map((L) => L.A),
                  w,
                ),
                B: fuseT(
                  fl.map((L) => L.B),
                  w,
                ),
              };
        return withBias({ kind: 'factored', ...ab });
      }
      case 'delta': {
        const dl = Ls as readonly Extract<Linear, { kind: 'delta' }>[];
        const base = fuseT(
          dl.map((L) => L.base),
          w,
        );
        const ab =
          opts.factoredMerge === 'reconstruct'
            ? reconstruct(Ls, w, r!)
            : {
                A: fuseT(
                  dl.map((L) => L.A),
                  w,
                ),
                B: fuseT(
                  dl.map((L) => L.B),
                  w,
                ),
              };
        return { kind: 'delta', base, ...ab };
      }
    }
  };

  try {
    const experts = groups.map((g, gi): ExpertWeights => {
      if (g.length === 1) return c.expert(view.experts[g[0]!]!);
      const members = g.map((e) => view.experts[e]!);
      const w = g.map((e) => weights[e] ?? 0);
      const where = `layer ${view.layer} group ${gi}`;
      return {
        gate: mergeLinear(
          members.map((m) => m.gate),
          w,
          `${where} gate`,
        ),
        up: mergeLinear(
          members.map((m) => m.up),
          w,
          `${where} up`,
        ),
        down: mergeLinear(
          members.map((m) => m.down),
          w,
          `${where} down`,
        ),
      };
    });
    const rowsOf = <T extends tf.Tensor>(x: T): T =>
      own(
        tf.tidy(() =>
          tf.stack(
            groups.map((g) => {
              const rows = tf.gather(x, tf.tensor1d(Int32Array.from(g), 'int32'));
              return g.length === 1 ? tf.squeeze(rows, [0]) : tf.mean(rows, 0);
            }),
          ),
        ) as T,
      );
    const out: MoeLayerView = {
      layer: view.layer,
      router: rowsOf(view.router),
      experts,
      routing,
      sources: groups.map((g) => g.flatMap((e) => (view.sources ? [...view.sources[e]!] : [e]))),
    };
    if (view.routerBias) out.routerBias = rowsOf(view.routerBias);
    if (view.shared) {
      const s: SharedExpertView = c.expert(view.shared);
      if (view.shared.gateWeight) s.gateWeight = c.t(view.shared.gateWeight);
      out.shared = s;
    }
    return out;
  } catch (e) {
    tf.dispose([...created, ...c.memoValues()]);
    throw e;
  }
}
