// Stored shapes of the sensitivity analyses (docs/analyses.md). Each analysis is a job of kind
// `analysis.<kind>` whose run holds one layer record per analysed layer (run_layers, step 0) with
// `stats` of the matching schema below, plus headline metrics. The renderer, the report writer and
// any client parse the records with these schemas; no Node imports here.
import { z } from 'zod';

export const ANALYSIS_KINDS = ['sensitivity', 'routing', 'similarity', 'energy', 'entropy'] as const;
export type AnalysisKind = (typeof ANALYSIS_KINDS)[number];

export const ANALYSIS_TITLES: Record<AnalysisKind, string> = {
  sensitivity: 'Per-layer sensitivity',
  routing: 'Routing frequency and calibration coverage',
  similarity: 'Expert similarity (weight cosine, output CKA)',
  energy: 'Energy retained vs rank',
  entropy: 'Router entropy',
};

export const analysisJobKind = (k: AnalysisKind) => `analysis.${k}` as const;

/** The analysis a run kind names, or null for other runs. */
export function analysisOfKind(runKind: string): AnalysisKind | null {
  const k = runKind.startsWith('analysis.') ? runKind.slice('analysis.'.length) : '';
  return (ANALYSIS_KINDS as readonly string[]).includes(k) ? (k as AnalysisKind) : null;
}

const Num = z.number();
const Row = z.array(Num);

/** One MoE layer compressed alone with the method; perplexity on the same windows as the baseline. */
export const SensitivityRecord = z.object({
  analysis: z.literal('sensitivity'),
  layer: z.number().int(),
  method: z.string(),
  /** requested share of the layer's routed-expert parameters removed */
  ratio: Num,
  /** the knob values the step solved for this layer alone (rank, expertsRemoved, …) */
  knobs: z.record(z.string(), Num),
  /** the knob left the layer unchanged (ratio 0, or below the knob's rounding) */
  noop: z.boolean(),
  /** routed-expert parameters of the layer (experts and router rows) before and after */
  paramsBefore: Num,
  paramsAfter: Num,
  /** 1 − paramsAfter / paramsBefore */
  achievedRatio: Num,
  baselinePpl: Num,
  ppl: Num,
  /** ppl − baselinePpl */
  deltaPpl: Num,
  /** ppl / baselinePpl − 1 */
  relativeDelta: Num,
  seconds: Num,
});
export type SensitivityRecord = z.infer<typeof SensitivityRecord>;

/** Top-k selections per expert over the calibration tokens, and coverage. */
export const RoutingRecord = z.object({
  analysis: z.literal('routing'),
  layer: z.number().int(),
  /** tokens that went through the router */
  tokens: Num,
  topK: z.number().int(),
  /** per expert: tokens whose top-k holds it; Σ = tokens · topK */
  counts: Row,
  /** counts / tokens (Σ = topK) */
  frequency: Row,
  /** an expert counts as covered with at least this many routed tokens */
  minTokens: z.number().int(),
  covered: z.number().int(),
  /** covered / experts */
  coverage: Num,
});
export type RoutingRecord = z.infer<typeof RoutingRecord>;

/** Expert × expert similarity of one layer; both matrices symmetric with unit diagonal. */
export const SimilarityRecord = z.object({
  analysis: z.literal('similarity'),
  layer: z.number().int(),
  experts: z.number().int(),
  /** cosine of the flattened weights, averaged over gate/up/down */
  weightCosine: z.array(Row),
  /** linear CKA of the experts' outputs on the same calibration tokens (every expert on every token) */
  outputCka: z.array(Row),
  /** calibration tokens the CKA used */
  ckaTokens: z.number().int(),
});
export type SimilarityRecord = z.infer<typeof SimilarityRecord>;

export const ENERGY_PROJECTIONS = ['gate', 'up', 'down'] as const;
export const ENERGY_THRESHOLDS = [0.5, 0.9, 0.95, 0.99] as const;

export const EnergyCurve = z.object({
  /** over the layer's experts, at each of `ranks`: Σ_{i≤r} σ_i² / Σ σ_i² */
  mean: Row,
  min: Row,
  max: Row,
  /** per threshold of ENERGY_THRESHOLDS (same order), per expert: the smallest rank reaching it */
  rankAt: z.array(z.array(z.number().int())),
});
export type EnergyCurve = z.infer<typeof EnergyCurve>;

/** Singular-value energy of the routed experts' matrices (optionally of W·S, S = chol(G), as SVD-LLM). */
export const EnergyRecord = z.object({
  analysis: z.literal('energy'),
  layer: z.number().int(),
  whitened: z.boolean(),
  /** experts whitening fell back to plain SVD for (no calibration tokens) */
  fallbackExperts: z.number().int(),
  /** full rank min(m, n) of each matrix */
  fullRank: z.number().int(),
  /** the ranks the curves are sampled at, ascending, ending at fullRank */
  ranks: z.array(z.number().int()),
  gate: EnergyCurve,
  up: EnergyCurve,
  down: EnergyCurve,
});
export type EnergyRecord = z.infer<typeof EnergyRecord>;

/** Router entropy of one layer, in nats. */
export const EntropyRecord = z.object({
  analysis: z.literal('entropy'),
  layer: z.number().int(),
  experts: z.number().int(),
  tokens: Num,
  /** mean over tokens of −Σ_e p_e log p_e of the full routing distribution */
  meanTokenEntropy: Num,
  /** entropy of the routing distribution averaged over tokens (the expected load) */
  averageLoadEntropy: Num,
  /** entropy of the top-k selection shares (the realised load) */
  selectionEntropy: Num,
  /** log(experts), the entropy of uniform routing */
  maxEntropy: Num,
});
export type EntropyRecord = z.infer<typeof EntropyRecord>;

export const AnalysisRecord = z.discriminatedUnion('analysis', [
  SensitivityRecord,
  RoutingRecord,
  SimilarityRecord,
  EnergyRecord,
  EntropyRecord,
]);
export type AnalysisRecord = z.infer<typeof AnalysisRecord>;

export type AnalysisRecordOf<K extends AnalysisKind> = Extract<AnalysisRecord, { analysis: K }>;

/** The records of one analysis run, by layer; records of another shape are skipped. */
export function analysisRecords<K extends AnalysisKind>(
  kind: K,
  layers: readonly { layer: number; stats: unknown }[],
): AnalysisRecordOf<K>[] {
  const out: AnalysisRecordOf<K>[] = [];
  for (const l of layers) {
    const r = AnalysisRecord.safeParse(l.stats);
    if (r.success && r.data.analysis === kind) out.push(r.data as AnalysisRecordOf<K>);
  }
  return out.sort((a, b) => a.layer - b.layer);
}
