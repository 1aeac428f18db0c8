// What an expert-by-expert low-rank step holds, phase by phase (lowrank/expert-by-expert.ts), for
// the memory pre-flight. Shapes only, no tfjs. The byte counts follow the allocations of the code
// the phases run — routed-statistics.ts (row blocks, Gram column blocks), lowrank/scaling.ts and
// linalg's choleskyRepaired / invertLowerWithRetry (copies of the Gram per repair variant),
// factorize.ts (host copy of W, W·S, the f32 copy of S or S⁻¹ for the tfjs product) and the SVD
// paths (the larger of exact and randomized, since `auto` picks by shape) — so the estimate moves
// when those do: keep them in step.
import {
  captureBudgetBytes,
  EVENT_ROWS,
  GRAM_BLOCK_BYTES,
  gramBlockCols,
} from '../../calibration/streaming-limits';
import type { ModelSpec } from '../../model/types';
import type { MemoryPhase, MemoryTerm, StepMemory } from '../../pipeline/memory-preflight';
import type { ModelPlanState } from '../../pipeline/plan-state';
import { wantedThreads } from '../../tensor/thread-count';
import type { MethodDeclaration } from '../method';
import { decomposableLayers, perExpertCap } from './knob';

export type ExpertScaleKind = 'whitening' | 'diagonal' | 'identity';
export type RepairKind = 'none' | 'shift-min-eig' | 'clamp-eig' | 'shift-all';

export interface ExpertScheduleInput {
  spec: ModelSpec;
  state: ModelPlanState;
  calibration: { samples: number; seqLen: number };
  rank: number;
  scale: ExpertScaleKind;
  repair?: RepairKind;
  /** randomized-SVD oversampling */
  oversampling: number;
  /** in-memory part of the capture (streaming-limits captureBudgetBytes) */
  captureBudgetBytes: number;
  /** compute threads wanted (wantedThreads); the whitening thread needs two */
  threads: number;
}

const f64 = 8;
const f32 = 4;
const sq = (d: number) => `${d}²`;

/**
 * Live d×d f64 matrices at the peak of one whitening, G included. shift-min-eig on a singular Gram
 * (the usual case: fewer routed tokens than channels): G, its symmetric lower copy, the shifted
 * copy and L; clamp-eig: G, the symmetrised copy, eigenvectors, V√λ, the rebuilt matrix, L;
 * shift-all: G, symmetrised, shifted, re-symmetrised, L; none: G and L. The inverse then holds G,
 * L and L⁻¹ (3).
 */
export function whiteningCopies(repair: RepairKind): number {
  const repairPeak = { none: 2, 'shift-min-eig': 4, 'clamp-eig': 6, 'shift-all': 5 }[repair];
  return Math.max(repairPeak, 3);
}

/** whitening working sets up to this size are overlapped with the previous expert's factorisation */
export const OVERLAP_MAX_BYTES = 2 * 2 ** 30;

/**
 * Whether an expert's whitening runs on the whitening thread while the calling thread factorises
 * the expert before it (expert-by-expert.ts): with two threads or more, when one whitening's working
 * set (the larger side) is at most OVERLAP_MAX_BYTES. Above that (Mixtral's 14336² down side: 6.1
 * GiB) two experts in flight would cost more memory than the time they save, and the loop stays
 * sequential.
 */
export function whiteningOverlaps(o: {
  hidden: number;
  intermediate: number;
  repair: RepairKind;
  threads: number;
}): boolean {
  const d = Math.max(o.hidden, o.intermediate);
  return o.threads >= 2 && whiteningCopies(o.repair) * d * d * f64 <= OVERLAP_MAX_BYTES;
}

/** Working bytes of a rank-r truncated SVD of an m×n matrix: the larger of the exact and randomized paths. */
export function svdWorkspaceBytes(m: number, n: number, r: number, oversampling: number): number {
  const k = Math.min(m, n);
  const l = Math.min(r + oversampling, k);
  // exact (f64 Golub–Kahan on the tall orientation): the f64 copy, its transpose, the working
  // transpose, U and the transposed outputs, plus the k×k V
  const exact = 5 * m * n * f64 + 2 * k * k * f64;
  // randomized: W and Wᵀ tensors, the Gaussian sketch (host + tensor), Y/Q/Z panels, Bᵀ in f32
  // and f64, the exact core SVD of the l×max(m,n) sketch
  const big = Math.max(m, n);
  const randomized =
    2 * m * n * f32 + 2 * big * l * f32 + 3 * (m + n) * l * f32 + big * l * (f32 + f64) + 5 * l * big * f64;
  return Math.max(exact, randomized);
}

export function expertByExpertMemory(o: ExpertScheduleInput): StepMemory {
  const { spec, rank: r } = o;
  const h = spec.hidden;
  const I = o.state.intermediate;
  const layers = decomposableLayers(o.state);
  const N = Math.max(1, ...layers.map((l) => l.experts));
  const k = Math.max(1, ...layers.map((l) => l.topK));
  const T = o.calibration.samples * o.calibration.seqLen;
  const R = EVENT_ROWS;
  const expert: MemoryTerm = {
    label: `one expert's gate/up/down decoded to f32 (3 × ${h}×${I})`,
    bytes: 3 * h * I * f32,
  };
  const oneFactors = 3 * r * (h + I) * f32;
  const layerFactors: MemoryTerm = {
    label: `the layer's factors as they accumulate (at most ${N} experts × 3 matrices at rank ${r}, f32)`,
    bytes: N * oneFactors,
  };
  const gramBlock = (d: number) => Math.min(GRAM_BLOCK_BYTES, d * gramBlockCols(d) * f32);
  const statsPhase = (side: 'input' | 'intermediate', d: number, gram: boolean): MemoryPhase => {
    // a chunk's rows (read back when spilled), the event's rows on host and as a tensor, and on the
    // intermediate side x·W_gᵀ, x·W_uᵀ, the silu parts and H (tidy keeps them to the end)
    const rowsBytes = R * h * f32 * 3;
    const inter = side === 'intermediate' ? 5 * R * I * f32 : 0;
    const terms: MemoryTerm[] = [
      expert,
      layerFactors,
      {
        label: `one event's routed rows (at most ${R} × ${side === 'input' ? h : `${h} → ${I}`} f32)`,
        bytes: rowsBytes + inter,
      },
    ];
    if (side === 'intermediate')
      terms.push({ label: `transposed gate/up of one expert (2 × ${h}×${I} f32)`, bytes: 2 * h * I * f32 });
    if (gram) {
      terms.push({ label: `one expert's ${side} Gram ${sq(d)} f64`, bytes: d * d * f64 });
      // a blocked Gram also holds the transposed rows
      const blocked = gramBlockCols(d) < d ? R * d * f32 : 0;
      terms.push({
        label: 'one Gram product (f32 result and its read-back, column-blocked when large)',
        bytes: 2 * gramBlock(d) + blocked,
      });
    }
    return { name: `${side} statistics of one expert`, terms };
  };
  const whitenPhase = (side: 'input' | 'intermediate', d: number): MemoryPhase => {
    const c = whiteningCopies(o.repair ?? 'shift-min-eig');
    return {
      name: `${side} whitening of one expert`,
      terms: [
        expert,
        layerFactors,
        {
          label: `one expert's ${side} Gram ${sq(d)} f64 + its Cholesky factor, inverse and repair copies (${c} × ${sq(d)} f64, '${o.repair ?? 'shift-min-eig'}')`,
          bytes: c * d * d * f64,
        },
      ],
    };
  };
  /** W [m, d] times the scale of its d input channels */
  const factorPhase = (name: string, m: number, d: number, whitenedWith: boolean): MemoryPhase => {
    const terms: MemoryTerm[] = [expert, layerFactors];
    if (o.scale === 'whitening' && whitenedWith)
      terms.push({
        label: `Cholesky factor and inverse ${sq(d)} f64 + the f32 copy (host and tensor) of one for the product`,
        bytes: 2 * d * d * f64 + 2 * d * d * f32,
      });
    const wCopies =
      o.scale === 'diagonal' ? m * d * (f32 + f64) : o.scale === 'whitening' ? 2 * m * d * f32 : m * d * f32;
    terms.push({ label: `host copies of W (${m}×${d}) and W·S`, bytes: wCopies });
    terms.push({
      label: `truncated SVD workspace of ${m}×${d} at rank ${Math.min(r, m, d)}`,
      bytes: svdWorkspaceBytes(m, d, Math.min(r, m, d), o.oversampling),
    });
    return { name, terms };
  };
  const stats = o.scale !== 'identity';
  const gram = o.scale === 'whitening';
  const repair = o.repair ?? 'shift-min-eig';
  const overlap = gram && whiteningOverlaps({ hidden: h, intermediate: I, repair, threads: o.threads });
  const phases: MemoryPhase[] = [];
  if (stats) phases.push(statsPhase('input', h, gram));
  if (gram) phases.push(whitenPhase('input', h));
  phases.push(factorPhase('gate/up factorisation of one expert', I, h, true));
  if (stats) phases.push(statsPhase('intermediate', I, gram));
  if (gram) phases.push(whitenPhase('intermediate', I));
  phases.push(factorPhase('down factorisation of one expert', h, I, true));
  phases.push({
    name: 'building the new layer view',
    // host factors become tensors expert by expert, each host copy dropped once its tensors exist
    terms: [
      layerFactors,
      { label: "one expert's factors as host copy and tensor at once", bytes: oneFactors },
    ],
  });
  if (overlap) {
    // the other expert in flight: the whitening thread's working set on the larger side, the other
    // side's Gram queued behind it, and the finished S, S⁻¹ of both sides waiting for the loop
    const dmax = Math.max(h, I);
    const other: MemoryTerm = {
      label: `the next expert's whitening on the whitening thread (${whiteningCopies(repair) + 1} × ${sq(dmax)} f64 working set and queued Gram, S and S⁻¹ of both sides 2 × (${sq(h)} + ${sq(I)}) f64)`,
      bytes: ((whiteningCopies(repair) + 1) * dmax * dmax + 2 * (h * h + I * I)) * f64,
    };
    for (const p of phases) if (p.name !== 'building the new layer view') p.terms.push(other);
  }
  const held: MemoryTerm[] = [
    {
      label: `routing of the calibration tokens (${T} × top-${k} int32)`,
      bytes: T * k * 4,
    },
  ];
  if (stats)
    held.push({
      label: `calibration capture in memory (${T} tokens × ${h} f32, at most the ${(o.captureBudgetBytes / 2 ** 20).toFixed(0)} MiB budget; the rest on disk)`,
      bytes: Math.min(o.captureBudgetBytes, T * h * f32),
    });
  return { schedule: 'per-expert', phases, held };
}

/**
 * The `statsBytes` of an expert-by-expert low-rank declaration: its schedule at the solved rank (or
 * the per-expert cap before one is solved), with the run's capture budget.
 */
export function lowRankStatsBytes<P extends { svd: { oversampling: number }; repair?: RepairKind }>(
  scale: ExpertScaleKind,
): NonNullable<MethodDeclaration<P>['statsBytes']> {
  return (p, spec, s, calibration, knobs) =>
    expertByExpertMemory({
      spec,
      state: s,
      calibration,
      rank: knobs.rank ?? perExpertCap({ hidden: s.hidden, intermediate: s.intermediate }),
      scale,
      ...(p.repair ? { repair: p.repair } : {}),
      oversampling: p.svd.oversampling,
      captureBudgetBytes: captureBudgetBytes(),
      threads: wantedThreads(),
    });
}
