// Cholesky with the three positive-definite repairs that the reference codes use (METHODS §1.2 step 2).
// Calibration Grams are often singular (fewer routed tokens than input channels), so one of these is
// needed in practice; the report says which repair happened so runs can record it.
import { EngineError } from '../errors';
import { tryCholesky } from './cholesky';
import { eigh, estimateMinEigenvalue, type MinEigenvalueEstimate, type MinEigenvalueOptions } from './eigh';
import { assertFinite, assertSquare, type Matrix, type Matrix64, zeros64 } from './matrix';

const FILE = 'engine/linalg/pd-repair';

export type PdRepair = 'none' | 'shift-min-eig' | 'clamp-eig' | 'shift-all';
export const PD_REPAIRS: readonly PdRepair[] = ['none', 'shift-min-eig', 'clamp-eig', 'shift-all'];

export interface PdRepairReport {
  variant: PdRepair;
  /** true when G was modified before the successful Cholesky */
  applied: boolean;
  /** smallest eigenvalue of (symmetrised) G, when it was computed */
  minEigenvalue?: number;
  /** how λmin was found: dense eigenvalues, or Lanczos (large n: an estimate, see `shift`) */
  eigenvalueMethod?: 'exact' | 'lanczos';
  /** diagonal shift added (shift variants) */
  shift?: number;
  /** eigenvalues raised to the floor (clamp variant) */
  clamped?: number;
}

export interface RepairOptions {
  /** clamp-eig floor (D²-MoE: 1e-5) */
  clampFloor?: number;
  /** shift-all tolerance added on top of |λmin| (default 1e-6) */
  tolerance?: number;
  /** how the shift variants find λmin (default: exact up to EXACT_EIG_MAX_N, Lanczos above) */
  eig?: MinEigenvalueOptions;
}

/** widening steps tried after the first shifted Cholesky when λmin was only estimated */
const MAX_WIDENINGS = 8;

// Cholesky of G + shift·I. With an exact λmin one try is the specification. A Lanczos estimate is an
// upper bound on λmin that may not have converged (tiny positive eigenvalues next to a null space are
// the hard case), so a failure first retries as if λmin were min(estimate, 0) — what a singular Gram's
// exact λmin (±1e-12) gives — then widens by 1e-6·10^j; the caller reports the shift that worked.
function factorShifted(
  g: Matrix64,
  shift: number,
  est: MinEigenvalueEstimate,
  variant: PdRepair,
): { L: Matrix64; shift: number } {
  const detail = `λmin=${est.value}`;
  if (est.method === 'exact') return { L: mustFactor(shifted(g, shift), variant, detail), shift };
  const widenings = [0];
  const base = Math.max(est.value, 0);
  if (base > 0) widenings.push(base);
  for (let j = 0; j < MAX_WIDENINGS; j++) widenings.push(base + 1e-6 * 10 ** j);
  for (const widen of widenings) {
    const l = tryCholesky(shifted(g, shift + widen));
    if (l) return { L: l, shift: shift + widen };
  }
  throw new EngineError(
    `Cholesky failed after the '${variant}' repair (${detail}, Lanczos estimate, shift widened up to ${shift + widenings.at(-1)!})`,
    {
      file: FILE,
      field: 'G',
      hint: "try the 'clamp-eig' repair",
    },
  );
}

function symmetrised(g: Matrix): Matrix64 {
  const n = g.rows;
  const out = zeros64(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out.data[i * n + j] = 0.5 * (g.data[i * n + j]! + g.data[j * n + i]!);
  }
  return out;
}

function shifted(g: Matrix64, shift: number): Matrix64 {
  const n = g.rows;
  const out = { rows: n, cols: n, data: g.data.slice() };
  for (let i = 0; i < n; i++) out.data[i * n + i] += shift;
  return out;
}

function mustFactor(g: Matrix64, variant: PdRepair, detail: string): Matrix64 {
  const l = tryCholesky(g);
  if (!l) {
    throw new EngineError(`Cholesky failed after the '${variant}' repair (${detail})`, {
      file: FILE,
      field: 'G',
      hint: variant === 'clamp-eig' ? undefined : "try the 'clamp-eig' repair",
    });
  }
  return l;
}

/** L with L Lᵀ = G (repaired as `variant` says), plus what was done. */
export function choleskyRepaired(
  g: Matrix,
  variant: PdRepair = 'shift-min-eig',
  opts: RepairOptions = {},
): { L: Matrix64; repair: PdRepairReport } {
  assertSquare(g, FILE, 'G');
  assertFinite(g, FILE, 'G');
  if (!PD_REPAIRS.includes(variant)) {
    throw new EngineError(`unknown repair '${variant}'; expected one of ${PD_REPAIRS.join(', ')}`, {
      file: FILE,
      field: 'variant',
    });
  }
  const n = g.rows;
  switch (variant) {
    case 'none':
    case 'shift-min-eig': {
      // compression-MoE: plain Cholesky first (it reads the lower triangle, like torch)
      const l = tryCholesky(g);
      if (l) return { L: l, repair: { variant, applied: false } };
      if (variant === 'none') {
        throw new EngineError('matrix is not positive definite', {
          file: FILE,
          field: 'G',
          hint: 'choose a repair',
        });
      }
      const lower = zeros64(n, n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) lower.data[i * n + j] = lower.data[j * n + i] = g.data[i * n + j]!;
      const est = estimateMinEigenvalue(lower, opts.eig);
      const lmin = est.value;
      const done = factorShifted(lower, -lmin + 1e-6, est, variant);
      return {
        L: done.L,
        repair: {
          variant,
          applied: true,
          minEigenvalue: lmin,
          eigenvalueMethod: est.method,
          shift: done.shift,
        },
      };
    }
    case 'clamp-eig': {
      // D²-MoE get_scale.py: symmetrise, eigendecompose, clamp all eigenvalues if the smallest is ≤ 0
      const floor = opts.clampFloor ?? 1e-5;
      const s = symmetrised(g);
      const { values, vectors } = eigh(s);
      const lmin = values.length ? values[0]! : 0;
      if (lmin > 0) {
        const l = tryCholesky(s);
        if (l) return { L: l, repair: { variant, applied: false, minEigenvalue: lmin } };
      }
      let clamped = 0;
      const lam = values.map((v) => {
        if (v < floor) clamped++;
        return Math.max(v, floor);
      });
      const V = vectors!.data;
      const rebuilt = zeros64(n, n);
      const R = rebuilt.data;
      // V diag(λ) Vᵀ: row i · row j of (V √λ)
      const scaled = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < n; k++) scaled[i * n + k] = V[i * n + k]! * Math.sqrt(lam[k]!);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          let acc = 0;
          for (let k = 0; k < n; k++) acc += scaled[i * n + k]! * scaled[j * n + k]!;
          R[i * n + j] = R[j * n + i] = acc;
        }
      }
      return {
        L: mustFactor(rebuilt, variant, `λmin=${lmin}`),
        repair: { variant, applied: true, minEigenvalue: lmin, clamped },
      };
    }
    case 'shift-all': {
      // MoE-SVD Alg. 5 as intended: shift everything by |λmin| + tol. We shift whenever λmin < tol (not
      // only λmin < 0): a singular Gram's λmin comes out as ±1e-17 and would otherwise fail at random.
      const tol = opts.tolerance ?? 1e-6;
      const s = symmetrised(g);
      const est = estimateMinEigenvalue(s, opts.eig);
      const lmin = est.value;
      if (lmin >= tol) {
        const l = tryCholesky(s);
        if (l)
          return {
            L: l,
            repair: { variant, applied: false, minEigenvalue: lmin, eigenvalueMethod: est.method },
          };
      }
      const done = factorShifted(s, Math.max(0, -lmin) + tol, est, variant);
      return {
        L: done.L,
        repair: {
          variant,
          applied: true,
          minEigenvalue: lmin,
          eigenvalueMethod: est.method,
          shift: done.shift,
        },
      };
    }
  }
}
