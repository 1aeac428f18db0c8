// Cholesky with the three positive-definite repairs that the reference codes use (METHODS §1.2 step 2).
// Calibration Grams are often singular (fewer routed tokens than input channels), so one of these is
// needed in practice; the report says which repair happened so runs can record it.
import { EngineError } from '../errors';
import { tryCholesky } from './cholesky';
import { eigh, minEigenvalue } from './eigh';
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
      const lmin = minEigenvalue(lower);
      const shift = -lmin + 1e-6;
      return {
        L: mustFactor(shifted(lower, shift), variant, `λmin=${lmin}`),
        repair: { variant, applied: true, minEigenvalue: lmin, shift },
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
      const lmin = minEigenvalue(s);
      if (lmin >= tol) {
        const l = tryCholesky(s);
        if (l) return { L: l, repair: { variant, applied: false, minEigenvalue: lmin } };
      }
      const shift = Math.max(0, -lmin) + tol;
      return {
        L: mustFactor(symmetrised(shifted(s, shift)), variant, `λmin=${lmin}`),
        repair: { variant, applied: true, minEigenvalue: lmin, shift },
      };
    }
  }
}
