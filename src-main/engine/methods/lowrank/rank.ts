// Rank ↔ ratio conventions (METHODS §1.4, §6). Two different "ratios" circulate in the references and
// are easy to confuse, so they have separate functions:
//  * keep ratio (D²-MoE delta_ratio): fraction of an m×n matrix's parameters that REMAIN after
//    factorisation, r = floor(keep·m·n/(m+n)). keep = 0 means rank 0 (the matrix is removed), not
//    "no change".
//  * compression ratio: fraction of parameters REMOVED (1 − keep). compression 0 means "no change":
//    the matrix stays dense — a rank-min(m,n) factorisation would reproduce W but cost more parameters
//    than W itself, so planLowRank returns {kind: 'dense'} rather than pretending.
import { EngineError } from '../../errors';

const FILE = 'engine/methods/lowrank/rank';

function checkShape(m: number, n: number): void {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m <= 0 || n <= 0) {
    throw new EngineError(`matrix shape must be positive integers, got ${m}x${n}`, {
      file: FILE,
      field: 'shape',
    });
  }
}

function checkFraction(v: number, field: string): void {
  if (!(v >= 0 && v <= 1)) throw new EngineError(`must be in [0, 1], got ${v}`, { file: FILE, field });
}

/** Parameters of the factors A (m×r) and B (r×n). */
export function factoredParams(m: number, n: number, r: number): number {
  return r * (m + n);
}

/** Largest rank whose factors do not exceed the dense m·n parameters: floor(mn/(m+n)). */
export function breakEvenRank(m: number, n: number): number {
  checkShape(m, n);
  return Math.floor((m * n) / (m + n));
}

/** compression-MoE's per-expert cap with hidden h and intermediate I: floor(3hI / 3(h+I)) (682 for OLMoE). */
export function expertBreakEvenRank(h: number, I: number): number {
  return breakEvenRank(h, I);
}

/** r = floor(keep·m·n/(m+n)) (§1.4), keep = fraction of parameters kept. */
export function rankFromKeepRatio(keep: number, m: number, n: number): number {
  checkShape(m, n);
  checkFraction(keep, 'keepRatio');
  // same operation order as the reference (int(ratio * m * n / (m + n))) so ranks match bit for bit
  return Math.min(Math.floor((keep * m * n) / (m + n)), Math.min(m, n));
}

export type LowRankPlan =
  | { kind: 'dense'; params: number }
  | { kind: 'factor'; rank: number; params: number };

/** What to do with an m×n matrix for a given compression ratio (fraction removed). */
export function planLowRank(m: number, n: number, compressionRatio: number): LowRankPlan {
  checkShape(m, n);
  checkFraction(compressionRatio, 'compressionRatio');
  if (compressionRatio === 0) return { kind: 'dense', params: m * n };
  const rank = rankFromKeepRatio(1 - compressionRatio, m, n);
  return { kind: 'factor', rank, params: factoredParams(m, n, rank) };
}
