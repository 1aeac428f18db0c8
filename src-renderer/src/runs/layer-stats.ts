// Reads the compress runner's per-layer records (free-form JSON in the store) into the steps, grids
// and tables the run page draws. A run's records are keyed by (step, layer); a run whose records
// carry no step (older runs) is one step. Defensive by design: records from older runs or other
// methods may lack any field, and a missing value is shown as missing, never as zero.
//
// Record shapes by family: low-rank (D) `{method, rank, tokens[], experts[], relError…}` indexed by
// the layer's current experts; pruning (P) `{method, metric, scores[], removed[], kept[] (original
// expert ids), removedIndex[], expertsBefore, expertsAfter, topK}`; dropping (T)
// `{method, dropped: 'ffn' | 'block' | true, similarity}`. The heatmap's columns are original
// expert ids, so experts a pruning step removed stay in their column in every later step.
import type { LayerRecord } from '@contract';

const PROJ = ['gate', 'up', 'down'] as const;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const numArray = (v: unknown): (number | null)[] | null => (Array.isArray(v) ? v.map(num) : null);
const intArray = (v: unknown): number[] | null =>
  Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0) ? (v as number[]) : null;
const obj = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function mean(xs: (number | null)[]): number | null {
  const ok = xs.filter((x): x is number => x !== null);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
}

/** Mean over gate/up/down of a per-projection field (`relError`, `energyKept`) of one expert entry. */
function projectionMean(entry: unknown, field: string): number | null {
  const e = obj(entry);
  if (!e) return num(entry);
  return mean(PROJ.map((p) => num(obj(e[p])?.[field])));
}

/** The record's step, when the store gave it one. */
export function recordStep(r: LayerRecord): number | null {
  const s = (r as { step?: unknown }).step;
  return typeof s === 'number' && Number.isInteger(s) && s >= 0 ? s : null;
}

// ---------------------------------------------------------------------------------------------
// Steps

export interface RunStep {
  /** the step's index in the pipeline */
  step: number;
  /** from the run's config, else from the records */
  method: string | null;
  records: LayerRecord[];
}

const methodOfStep = (cfgSteps: readonly unknown[], i: number, records: readonly LayerRecord[]) =>
  str(obj(cfgSteps[i])?.method) ?? records.map((r) => str(r.stats.method)).find((m) => m !== null) ?? null;

/**
 * Records grouped by step, in step order. Records without a step (older runs, or a store that does
 * not say) start a new step where the layer sequence restarts or the method changes; a run of one
 * step with increasing layers stays one step.
 */
export function runSteps(records: readonly LayerRecord[], configSteps: readonly unknown[] = []): RunStep[] {
  if (records.length === 0) return [];
  const groups = new Map<number, LayerRecord[]>();
  if (records.every((r) => recordStep(r) !== null)) {
    for (const r of records) groups.set(recordStep(r)!, [...(groups.get(recordStep(r)!) ?? []), r]);
  } else {
    let step = 0;
    let last: LayerRecord | null = null;
    for (const r of records) {
      const m = str(r.stats.method);
      const lastM = last ? str(last.stats.method) : null;
      if (last && (r.layer <= last.layer || (m !== null && lastM !== null && m !== lastM))) step++;
      groups.set(step, [...(groups.get(step) ?? []), r]);
      last = r;
    }
  }
  return [...groups]
    .sort((a, b) => a[0] - b[0])
    .map(([step, rs]) => ({
      step,
      method: methodOfStep(configSteps, step, rs),
      records: [...rs].sort((a, b) => a.layer - b.layer),
    }));
}

// ---------------------------------------------------------------------------------------------
// Pruning and dropping, per record

export interface PruneInfo {
  metric: string | null;
  /** original expert ids */
  removed: number[];
  kept: number[];
  before: number | null;
  after: number | null;
  /** original id of each current expert (the order scores[] and other per-expert arrays use) */
  currentIds: number[];
  /** merging (M): original id → the original id of the leader it was merged into (members only) */
  mergedInto: Map<number, number> | null;
}

/**
 * A merge record as pruning-like facts: the non-leader members leave the layer, each group's leader
 * (its first source) stays as the group's expert, in group order.
 */
function mergeInfo(s: Record<string, unknown>): PruneInfo | null {
  if (!Array.isArray(s.groups) || s.groups.length === 0) return null;
  const groups = s.groups.map(intArray);
  if (groups.some((g) => !g || g.length === 0)) return null;
  const gs = groups as number[][];
  const mergedInto = new Map<number, number>();
  for (const g of gs) for (const e of g.slice(1)) mergedInto.set(e, g[0]!);
  const index = Array.isArray(s.groupIndex) ? s.groupIndex.map(intArray) : null;
  const all = gs.flat();
  let currentIds = [...all].sort((a, b) => a - b);
  // one source per current expert (no earlier merge): groupIndex[g][j] is the current index of groups[g][j]
  if (index && index.length === gs.length && index.every((g, i) => g && g.length === gs[i]!.length)) {
    const ids = Array.from({ length: all.length }, () => -1);
    index.forEach((g, i) => {
      g!.forEach((cur, j) => {
        if (cur < ids.length) ids[cur] = gs[i]![j]!;
      });
    });
    if (ids.every((x) => x >= 0)) currentIds = ids;
  }
  return {
    metric: null,
    removed: [...mergedInto.keys()].sort((a, b) => a - b),
    kept: gs.map((g) => g[0]!),
    before: num(s.expertsBefore) ?? all.length,
    after: num(s.expertsAfter) ?? gs.length,
    currentIds,
    mergedInto,
  };
}

/** The pruning facts of a record, or null for a record that removed no experts. */
export function pruneInfo(r: LayerRecord): PruneInfo | null {
  const s = r.stats;
  if (s.method === 'expert-merge' || (s.groups !== undefined && s.removed === undefined)) return mergeInfo(s);
  const removed = intArray(s.removed);
  const kept = intArray(s.kept);
  if (!removed || !kept) return null;
  const removedIndex = intArray(s.removedIndex);
  const n = removed.length + kept.length;
  let currentIds: number[];
  if (removedIndex && removedIndex.length === removed.length && removedIndex.every((i) => i < n)) {
    currentIds = Array.from({ length: n }, () => -1);
    removedIndex.forEach((i, k) => {
      currentIds[i] = removed[k]!;
    });
    let k = 0;
    for (let i = 0; i < n; i++) if (currentIds[i] === -1) currentIds[i] = kept[k++]!;
  } else {
    currentIds = [...removed, ...kept].sort((a, b) => a - b);
  }
  return {
    metric: str(s.metric),
    removed,
    kept,
    before: num(s.expertsBefore) ?? n,
    after: num(s.expertsAfter) ?? kept.length,
    currentIds,
    mergedInto: null,
  };
}

export type DropKind = 'layer' | 'block';

export function dropKind(r: LayerRecord): DropKind | null {
  const d = r.stats.dropped;
  if (d === 'block') return 'block';
  if (d === 'ffn' || d === 'layer') return 'layer';
  if (d === true) return str(r.stats.method)?.includes('block') ? 'block' : 'layer';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Heatmap grid

export type ExpertMetricId = 'score' | 'tokenShare' | 'tokens' | 'relError' | 'energyKept' | 'rank';

export const EXPERT_METRICS: {
  id: ExpertMetricId;
  label: string;
  format: (v: number) => string;
  higherIsBetter: boolean;
}[] = [
  {
    id: 'score',
    label: 'Pruning score (lowest are removed)',
    format: (v) =>
      Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(3),
    higherIsBetter: true,
  },
  {
    id: 'tokenShare',
    label: 'Routed-token share (calibration coverage)',
    format: (v) => `${(v * 100).toFixed(1)}%`,
    higherIsBetter: true,
  },
  { id: 'tokens', label: 'Routed tokens', format: (v) => String(Math.round(v)), higherIsBetter: true },
  {
    id: 'relError',
    label: 'Reconstruction error (mean of gate/up/down)',
    format: (v) => v.toExponential(2),
    higherIsBetter: false,
  },
  { id: 'energyKept', label: 'Energy kept', format: (v) => `${(v * 100).toFixed(1)}%`, higherIsBetter: true },
  { id: 'rank', label: 'Rank kept', format: (v) => String(Math.round(v)), higherIsBetter: true },
];

export interface RowDrop {
  kind: DropKind;
  /** dropped by the step shown, or by an earlier one */
  byThisStep: boolean;
  similarity: number | null;
}

export interface ExpertGrid {
  layers: number[];
  /** columns: original expert ids 0..experts-1 */
  experts: number;
  /** values[metric][row = layer index in `layers`][expert] */
  values: Record<ExpertMetricId, (number | null)[][]>;
  /** experts that saw no calibration tokens: [row][expert] */
  zeroTokens: boolean[][];
  /** experts this step removed: [row][expert] */
  removed: boolean[][];
  /** experts an earlier step removed (no longer in the layer): [row][expert] */
  gone: boolean[][];
  /** merging: the leader (original id) each member was merged into by this step, else null: [row][expert] */
  mergedInto: (number | null)[][];
  /** merging: group leaders of this step (each stands for its group): [row][expert] */
  leader: boolean[][];
  /** experts in the layer after this step, per row (null when the records do not say) */
  kept: (number | null)[];
  /** experts in the layer before this step, per row */
  before: (number | null)[];
  /** the MoE sub-layer or the whole block is gone, per row */
  dropped: (RowDrop | null)[];
  /** metrics that have at least one value */
  available: ExpertMetricId[];
}

/**
 * The grid of one step's records. `prior`: the records of the steps before it, in order; they say
 * which experts are already gone (and the original id of each current expert) and which layers
 * were dropped (shown as rows even without a record of this step).
 */
export function expertGrid(records: readonly LayerRecord[], prior: readonly LayerRecord[] = []): ExpertGrid {
  const priorByLayer = new Map<number, LayerRecord[]>();
  for (const r of prior) priorByLayer.set(r.layer, [...(priorByLayer.get(r.layer) ?? []), r]);
  const droppedEarlier = new Map<number, LayerRecord>();
  for (const r of prior) if (dropKind(r)) droppedEarlier.set(r.layer, r);
  const byLayer = new Map<number, LayerRecord>();
  for (const r of records) byLayer.set(r.layer, r);
  const layers = [...new Set([...byLayer.keys(), ...droppedEarlier.keys()])].sort((a, b) => a - b);

  // per row: prunings before this step, and the original ids of the layer's current experts
  const rows = layers.map((layer) => {
    const rec = byLayer.get(layer) ?? null;
    const earlier = (priorByLayer.get(layer) ?? []).map(pruneInfo).filter((p): p is PruneInfo => p !== null);
    const lastPrune = earlier.at(-1) ?? null;
    const own = rec ? pruneInfo(rec) : null;
    const currentIds = own?.currentIds ?? lastPrune?.kept ?? null;
    return { layer, rec, earlier, lastPrune, own, currentIds };
  });

  const idOf = (ids: number[] | null, i: number, n: number) => (ids && ids.length === n ? ids[i]! : i);
  let experts = 0;
  for (const row of rows) {
    const s = row.rec?.stats ?? {};
    for (const p of [...row.earlier, ...(row.own ? [row.own] : [])]) {
      experts = Math.max(experts, p.before ?? 0, ...p.removed.map((e) => e + 1), ...p.kept.map((e) => e + 1));
    }
    for (const arr of [
      numArray(s.tokens),
      numArray(s.scores),
      numArray(s.ranks),
      Array.isArray(s.experts) ? s.experts : null,
    ]) {
      if (!arr) continue;
      for (let i = 0; i < arr.length; i++)
        experts = Math.max(experts, idOf(row.currentIds, i, arr.length) + 1);
    }
  }

  const empty = () => layers.map(() => Array.from({ length: experts }, () => null as number | null));
  const flags = () => layers.map(() => Array.from({ length: experts }, () => false));
  const values: ExpertGrid['values'] = {
    score: empty(),
    tokenShare: empty(),
    tokens: empty(),
    relError: empty(),
    energyKept: empty(),
    rank: empty(),
  };
  const zeroTokens = flags();
  const removed = flags();
  const gone = flags();
  const mergedInto = layers.map(() => Array.from({ length: experts }, () => null as number | null));
  const leader = flags();
  const kept: (number | null)[] = [];
  const before: (number | null)[] = [];
  const dropped: (RowDrop | null)[] = [];

  rows.forEach((row, ri) => {
    for (const p of row.earlier) for (const e of p.removed) if (e < experts) gone[ri]![e] = true;
    const r = row.rec;
    const thisDrop = r ? dropKind(r) : null;
    const earlierDrop = droppedEarlier.get(row.layer);
    dropped.push(
      thisDrop
        ? { kind: thisDrop, byThisStep: true, similarity: num(r!.stats.similarity) }
        : earlierDrop
          ? { kind: dropKind(earlierDrop)!, byThisStep: false, similarity: num(earlierDrop.stats.similarity) }
          : null,
    );
    before.push(row.own?.before ?? row.lastPrune?.after ?? null);
    kept.push(row.own?.after ?? row.lastPrune?.after ?? null);
    if (!r) return;
    if (row.own?.mergedInto) {
      for (const [e, l] of row.own.mergedInto) if (e < experts) mergedInto[ri]![e] = l;
      for (const l of row.own.kept)
        if (l < experts && [...row.own.mergedInto.values()].includes(l)) leader[ri]![l] = true;
    } else if (row.own) for (const e of row.own.removed) if (e < experts) removed[ri]![e] = true;
    const s = r.stats;
    const place = (arr: (number | null)[] | null, into: (number | null)[][]) => {
      if (!arr) return;
      arr.forEach((v, i) => {
        const e = idOf(row.currentIds, i, arr.length);
        if (e < experts) into[ri]![e] = v;
      });
    };
    const tokens = numArray(s.tokens);
    const total = tokens ? tokens.reduce<number>((a, b) => a + (b ?? 0), 0) : 0;
    place(tokens, values.tokens);
    place(tokens?.map((t) => (t === null || total <= 0 ? null : t / total)) ?? null, values.tokenShare);
    tokens?.forEach((t, i) => {
      const e = idOf(row.currentIds, i, tokens.length);
      if (e < experts) zeroTokens[ri]![e] = t === 0;
    });
    place(numArray(s.scores), values.score);
    const perExpert = Array.isArray(s.experts) ? s.experts : null;
    place(perExpert?.map((x) => projectionMean(x, 'relError')) ?? null, values.relError);
    place(perExpert?.map((x) => projectionMean(x, 'energyKept')) ?? null, values.energyKept);
    const ranks = numArray(s.ranks);
    const layerRank = num(s.rank);
    const n = Math.max(tokens?.length ?? 0, perExpert?.length ?? 0);
    place(
      ranks ?? (n > 0 && layerRank !== null ? Array.from({ length: n }, () => layerRank) : null),
      values.rank,
    );
  });

  const available = (Object.keys(values) as ExpertMetricId[]).filter((m) =>
    values[m].some((row) => row.some((v) => v !== null)),
  );
  return {
    layers,
    experts,
    values,
    zeroTokens,
    removed,
    gone,
    mergedInto,
    leader,
    kept,
    before,
    dropped,
    available,
  };
}

/** The grid of step `index` of a run, with the earlier steps' records as its context. */
export function stepGrid(steps: readonly RunStep[], index: number): ExpertGrid {
  return expertGrid(
    steps[index]?.records ?? [],
    steps.slice(0, Math.max(0, index)).flatMap((s) => s.records),
  );
}

// ---------------------------------------------------------------------------------------------
// Layer table

export interface LayerRow {
  layer: number;
  method: string | null;
  rank: number | null;
  tokens: number | null;
  zeroTokenExperts: number | null;
  relError: number | null;
  relErrorGate: number | null;
  relErrorUp: number | null;
  relErrorDown: number | null;
  sensitivity: number | null;
  paramsDense: number | null;
  paramsFactored: number | null;
  /** pruning: the score metric, experts before → after and the removed original ids */
  metric: string | null;
  expertsBefore: number | null;
  expertsAfter: number | null;
  removed: number[] | null;
  /** merging: the groups as original expert ids, leader first */
  groups: number[][] | null;
  /** dropping: what went, and the similarity it was chosen by */
  dropped: DropKind | null;
  similarity: number | null;
  /** slimming (S): fraction of the touched weights zeroed, the pattern, and each routed expert's fraction */
  sparsity: number | null;
  pattern: string | null;
  expertSparsity: (number | null)[] | null;
  /** quantization (Q): bits and group size (−1 = per channel), and each routed expert's bits */
  bits: number | null;
  groupSize: number | null;
  expertBits: (number | null)[] | null;
  seconds: number | null;
}

/** Layer-level relErrors: `relError: {gate, up, down}`, or MoE-SVD's `<proj>SharedRelError`. */
function projErrors(s: Record<string, unknown>): [number | null, number | null, number | null] {
  const r = obj(s.relError);
  return PROJ.map((p) => num(r?.[p]) ?? num(s[`${p}SharedRelError`]) ?? num(s[`${p}RelError`])) as [
    number | null,
    number | null,
    number | null,
  ];
}

export function layerRows(records: readonly LayerRecord[]): LayerRow[] {
  return records.map((r) => {
    const s = r.stats;
    const tokens = numArray(s.tokens);
    const [g, u, d] = projErrors(s);
    const p = pruneInfo(r);
    return {
      layer: r.layer,
      method: typeof s.method === 'string' ? s.method : null,
      rank: num(s.rank),
      tokens: tokens ? tokens.reduce<number>((a, b) => a + (b ?? 0), 0) : null,
      zeroTokenExperts: tokens ? tokens.filter((t) => t === 0).length : num(s.fallbackExperts),
      relError: mean([g, u, d]) ?? num(s.relError),
      relErrorGate: g,
      relErrorUp: u,
      relErrorDown: d,
      sensitivity: num(s.sensitivity) ?? num(obj(s.sensitivity)?.value),
      paramsDense: num(s.paramsDense),
      paramsFactored: num(s.paramsFactored),
      metric: p?.metric ?? null,
      expertsBefore: p?.before ?? null,
      expertsAfter: p?.after ?? null,
      removed: p && !p.mergedInto ? [...p.removed].sort((a, b) => a - b) : null,
      groups: p?.mergedInto && Array.isArray(s.groups) ? (s.groups as number[][]) : null,
      dropped: dropKind(r),
      similarity: num(s.similarity),
      sparsity: num(s.sparsity),
      pattern: typeof s.pattern === 'string' ? s.pattern : null,
      expertSparsity: numArray(s.expertSparsity),
      bits: num(s.bits),
      groupSize: num(s.groupSize),
      expertBits: numArray(s.expertBits),
      seconds: r.seconds ?? num(s.seconds),
    };
  });
}

/** One line about what a step did, from its records. */
export function stepSummary(step: RunStep): string {
  const infos = step.records.map(pruneInfo).filter((p): p is PruneInfo => p !== null);
  const merges = infos.filter((p) => p.mergedInto !== null);
  const prunes = infos.filter((p) => p.mergedInto === null);
  const drops = step.records.filter((r) => dropKind(r) !== null);
  const parts: string[] = [];
  if (merges.length) {
    const before = merges.reduce((a, p) => a + (p.before ?? 0), 0);
    const after = merges.reduce((a, p) => a + (p.after ?? 0), 0);
    parts.push(
      `${before} experts merged into ${after} groups in ${merges.length} layer${merges.length === 1 ? '' : 's'}`,
    );
  }
  if (prunes.length) {
    const n = prunes.reduce((a, p) => a + p.removed.length, 0);
    parts.push(
      `${n} expert${n === 1 ? '' : 's'} removed in ${prunes.length} layer${prunes.length === 1 ? '' : 's'}`,
    );
  }
  if (drops.length) {
    const kind = drops.every((r) => dropKind(r) === 'block') ? 'block' : 'layer';
    parts.push(
      `${kind === 'block' ? 'blocks' : 'MoE layers'} dropped: ${drops.map((r) => `L${r.layer}`).join(', ')}`,
    );
  }
  const ranks = [
    ...new Set(step.records.map((r) => num(r.stats.rank)).filter((x): x is number => x !== null)),
  ];
  if (ranks.length) parts.push(`rank ${ranks.join(', ')}`);
  parts.push(`${step.records.length} layer record${step.records.length === 1 ? '' : 's'}`);
  return parts.join(' · ');
}
