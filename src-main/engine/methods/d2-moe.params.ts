// Declaration of `d2-moe` (family D, METHODS §3): delta decompression. Per MoE layer and projection,
// a shared base W_b (Fisher × frequency weighted merge, §3.2) plus per-expert low-rank deltas
// Δ_e = W_e − W_b factorised with SVD-LLM whitening by the expert's own Gram (§3.3), optional
// ShareV / MergeU (§3.4), semi-dynamic structured pruning of the base (§3.5) and delta trimming of
// the least frequent experts (§3.6). Knob: the delta rank; a budget-driven step solves delta_ratio by
// cal_params' bisection on the exact state (§3.7) and prints both. No tfjs here.
import { z } from 'zod';
import type { ModelPlanState } from '../pipeline/plan-state';
import { d2Apply, d2Layers, deltaRank, maxDeltaRank, solveDeltaRatio } from './d2moe/accounting';
import type { KnobSpec, MethodDeclaration } from './method';
import { gramBytes, PdRepair, SvdOptions } from './params-common';
import { atMostOneOf } from './prune/amount';

export const FisherParams = z
  .object({
    mode: z
      .enum(['full', 'diagonal'])
      .default('full')
      .describe(
        "'full' = element-wise Fisher per weight (reference default); 'diagonal' = per input column: sqrt(mean over rows)",
      ),
    shift: z
      .enum(['next-token', 'reference'])
      .default('next-token')
      .describe(
        "loss whose gradient is squared: 'next-token' = standard causal-LM loss; 'reference' = get_fisher.py's double label shift (predict t+2), a pitfall of the reference (docs/pipeline-config.md: d2-moe)",
      ),
    samples: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('calibration sequences used for the Fisher pass (default: all); one backward per sequence'),
    memoryMiB: z
      .number()
      .min(0)
      .default(1024)
      .describe(
        'boundary activations kept in memory during the backward sweep; beyond this they go to a temp folder',
      ),
    epsilon: z
      .number()
      .min(0)
      .default(1e-12)
      .describe(
        'elements whose Σ_e f_e·F_e is ≤ epsilon·max (incl. all-zero Fisher) take the frequency-weighted mean instead (an all-zero Fisher would divide by zero)',
      ),
  })
  .strict()
  .default({ mode: 'full', shift: 'next-token', memoryMiB: 1024, epsilon: 1e-12 })
  .describe('empirical Fisher pass (base: fisher)');

export const D2MoeParams = z
  .object({
    ratio: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        'whole-model compression ratio for this step (1 − params_after/params_before); overrides target.ratio',
      ),
    deltaRatio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'explicit delta_ratio: r = floor(h·I·delta_ratio/(h+I)) (instead of solving it from a target)',
      ),
    rank: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('explicit delta rank, up to min(h, I) (full rank: base + delta reproduce every expert)'),
    ppRatio: z
      .number()
      .min(0)
      .lt(1)
      .default(0.1)
      .describe(
        'base pruning ratio pp_ratio (Table 12: 0.1 "performance", 0.6 "throughput"); 0 = no base pruning',
      ),
    dynamic: z
      .boolean()
      .default(true)
      .describe(
        'semi-dynamic pruning (docs/pipeline-config.md: d2-moe): half of pp static from calibration, half per inference batch; false = all of pp static',
      ),
    dynamicScore: z
      .enum(['wanda', 'probe'])
      .default('wanda')
      .describe(
        "dynamic-half score: 'wanda' = the paper's ‖W_b2[:, j]‖·‖X[j, :]‖ over each batch (one channel set per layer); 'probe' = the reference's Probe Pruning (per expert, from a probe of its highest-norm tokens and the calibration statistic)",
      ),
    probeAlpha: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'probe: weight α of the probe statistic against the calibration one, c = (1 − α)g + αq; absent = adaptive α_j = q_j/(q_j + g_j + 1e-6)',
      ),
    channelMultiple: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(1)
      .describe(
        'kept base channels rounded up to a multiple of this (the reference uses 64, for tensor cores)',
      ),
    base: z
      .enum(['fisher', 'freq', 'mean'])
      .default('fisher')
      .describe(
        "base weight W_b: 'fisher' = Σ f_e F_e ⊙ W_e / Σ f F; 'freq' = frequency-weighted mean; 'mean'",
      ),
    shareV: z.boolean().default(false).describe('ShareV: one V per projection type from the stacked deltas'),
    mergeU: z.boolean().default(false).describe('MergeU (needs shareV): one frequency-weighted U too'),
    trimDeltas: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'delta trimming: per layer, the deltas of this many least frequent experts are dropped (they run on W_b)',
      ),
    ignoreLayers: z
      .array(z.number().int().min(0))
      .default([])
      .describe('layers left uncompressed (cal_params ignore_layers)'),
    fisher: FisherParams,
    repair: PdRepair.default('clamp-eig').describe(
      "positive-definite repair of the Grams (D²-MoE get_scale.py: 'clamp-eig', floor 1e-5)",
    ),
    svd: SvdOptions,
  })
  .strict()
  .superRefine(atMostOneOf(['ratio', 'deltaRatio', 'rank']))
  .superRefine((v, ctx) => {
    if (v.mergeU && !v.shareV)
      ctx.addIssue({
        code: 'custom',
        path: ['mergeU'],
        message: 'mergeU merges the U factors of a shared V: set shareV too',
      });
  })
  .describe('D²-MoE: shared base weight + whitened low-rank deltas, semi-dynamic base pruning');
export type D2MoeParams = z.output<typeof D2MoeParams>;

function fixed(p: D2MoeParams, s: ModelPlanState): number | null {
  if (p.rank !== undefined) return p.rank;
  if (p.deltaRatio !== undefined) return deltaRank(p.deltaRatio, s.hidden, s.intermediate);
  return null;
}

export const d2MoeKnob: KnobSpec<D2MoeParams> = {
  name: 'rank',
  fixed,
  range: (p, s) => (d2Layers(s, p).length === 0 ? [0, -1] : [0, maxDeltaRank(s.hidden, s.intermediate)]),
  apply: (p, s, r) => d2Apply(p, s, r),
  describe: (p, s, k) => ({
    deltaRatio: p.deltaRatio ?? (k * (s.hidden + s.intermediate)) / (s.hidden * s.intermediate),
  }),
  solve(p, s, t) {
    const r = solveDeltaRatio(p, s, t);
    return { knobs: { rank: r.rank, deltaRatio: r.deltaRatio }, state: r.state };
  },
};

export const d2MoeDeclaration: MethodDeclaration<D2MoeParams> = {
  id: 'd2-moe',
  family: 'D',
  title: 'D²-MoE',
  description:
    'Delta decompression: Fisher-weighted shared base per projection + whitened low-rank expert deltas; semi-dynamic base pruning.',
  params: D2MoeParams,
  knob: d2MoeKnob,
  check: (p, s) => {
    if (d2Layers(s, p).length > 0) return null;
    return s.layers.some((l) => l.kind === 'moe' && !l.blockDropped && !l.ffnDropped && l.experts > 0)
      ? 'no MoE layer with dense experts is left to decompose (ignored or already decomposed)'
      : 'the model has no MoE layer left to decompose';
  },
  statsBytes: (p, spec, _s, calibration) => {
    const expertLayer = 4 * spec.experts * 3 * spec.hidden * spec.moeIntermediate;
    if (p.base !== 'fisher') return gramBytes(spec);
    const seqs = Math.min(calibration.samples, p.fisher.samples ?? calibration.samples);
    const boundaries = (spec.layers + 1) * seqs * calibration.seqLen * spec.hidden * 4;
    // Grams + one layer's Fisher accumulators and gradients + boundary activations held in memory
    return gramBytes(spec) + 2 * expertLayer + Math.min(boundaries, p.fisher.memoryMiB * 2 ** 20);
  },
  load: async () => (await import('./d2-moe')).d2MoeStep,
};
