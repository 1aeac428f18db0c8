// Reads the compress runner's per-layer records (free-form JSON in the store) into the grids the
// heatmap and tables draw. Defensive by design: records from older runs or other methods may lack
// any field, and a missing value is shown as missing, never as zero.
import type { LayerRecord } from '@contract';

const PROJ = ['gate', 'up', 'down'] as const;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const numArray = (v: unknown): (number | null)[] | null => (Array.isArray(v) ? v.map(num) : null);
const obj = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

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

export type ExpertMetricId = 'tokenShare' | 'tokens' | 'relError' | 'energyKept' | 'rank';

export const EXPERT_METRICS: {
  id: ExpertMetricId;
  label: string;
  format: (v: number) => string;
  higherIsBetter: boolean;
}[] = [
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

export interface ExpertGrid {
  layers: number[];
  experts: number;
  /** values[metric][row = layer index in `layers`][expert] */
  values: Record<ExpertMetricId, (number | null)[][]>;
  /** experts that saw no calibration tokens: [row][expert] */
  zeroTokens: boolean[][];
  /** metrics that have at least one value */
  available: ExpertMetricId[];
}

export function expertGrid(records: readonly LayerRecord[]): ExpertGrid {
  const layers = records.map((r) => r.layer);
  const experts = Math.max(
    0,
    ...records.map((r) =>
      Math.max(
        numArray(r.stats.tokens)?.length ?? 0,
        Array.isArray(r.stats.experts) ? r.stats.experts.length : 0,
        numArray(r.stats.ranks)?.length ?? 0,
      ),
    ),
  );
  const empty = () => records.map(() => Array.from({ length: experts }, () => null as number | null));
  const values: ExpertGrid['values'] = {
    tokenShare: empty(),
    tokens: empty(),
    relError: empty(),
    energyKept: empty(),
    rank: empty(),
  };
  const zeroTokens = records.map(() => Array.from({ length: experts }, () => false));
  records.forEach((r, row) => {
    const tokens = numArray(r.stats.tokens);
    const total = tokens ? tokens.reduce<number>((a, b) => a + (b ?? 0), 0) : 0;
    const perExpert = Array.isArray(r.stats.experts) ? r.stats.experts : null;
    const ranks = numArray(r.stats.ranks);
    const layerRank = num(r.stats.rank);
    for (let e = 0; e < experts; e++) {
      const t = tokens?.[e] ?? null;
      values.tokens[row]![e] = t;
      values.tokenShare[row]![e] = t === null || total <= 0 ? null : t / total;
      zeroTokens[row]![e] = t === 0;
      values.relError[row]![e] = perExpert ? projectionMean(perExpert[e], 'relError') : null;
      values.energyKept[row]![e] = perExpert ? projectionMean(perExpert[e], 'energyKept') : null;
      values.rank[row]![e] = ranks?.[e] ?? (tokens || perExpert ? layerRank : null);
    }
  });
  const available = (Object.keys(values) as ExpertMetricId[]).filter((m) =>
    values[m].some((row) => row.some((v) => v !== null)),
  );
  return { layers, experts, values, zeroTokens, available };
}

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
      seconds: r.seconds ?? num(s.seconds),
    };
  });
}
