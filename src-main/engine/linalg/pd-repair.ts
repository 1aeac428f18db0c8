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
  /**
   * smallest eigenvalue of (symmetrised) G, when it was computed: exact, or on the Lanczos path the
   * smallest Ritz value, an upper bound on λmin that need not have converged (see `minEigenvalueBracket`)
   */
  minEigenvalue?: number;
  /** how λmin was found: dense eigenvalues, or Lanczos (large n: an estimate, see `shift`) */
  eigenvalueMethod?: 'exact' | 'lanczos';
  /**
   * Lanczos path: [lo, hi] with lo < λmin ≤ hi, to the Cholesky's backward error: the factorisation
   * of G + shift·I that succeeded gives lo = −shift, hi is the Ritz value or −(largest shift that failed)
   */
  minEigenvalueBracket?: [number, number];
  /** diagonal shift added (shift variants) */
  shift?: number;
  /** eigenvalues raised to the floor (clamp variant) */
  clamped?: number;
  /** Cholesky factorisations tried, the successful one included */
  attempts?: number;
  /** the plain Cholesky was not tried: the caller said G is rank-deficient (see RepairOptions) */
  skippedPlain?: boolean;
}

export interface RepairOptions {
  /** clamp-eig floor (D²-MoE: 1e-5) */
  clampFloor?: number;
  /** shift-all tolerance added on top of |λmin| (default 1e-6) */
  tolerance?: number;
  /** how the shift variants find λmin (default: exact up to EXACT_EIG_MAX_N, Lanczos above) */
  eig?: MinEigenvalueOptions;
  /**
   * G = Σ x xᵀ over fewer vectors than its dimension (an expert's routed tokens < its input width),
   * so the exact G is singular and its λmin is 0. 'shift-min-eig' then skips its plain Cholesky (it
   * could only succeed on rounding noise, and fails after most of a full factorisation) and takes
   * λmin as min(computed, 0), a positive computed value being rounding too.
   */
  rankDeficient?: boolean;
}

/** widening steps tried after the first shifted Cholesky when λmin was only estimated */
const MAX_WIDENINGS = 8;
/**
 * Factors on |λmin estimate| tried in turn on the Lanczos path. A Ritz value that has not converged
 * lies above λmin: the near-null spectrum of a Gram over fewer tokens than channels is a cluster of
 * ~n/2 rounding-noise eigenvalues next to a range spectrum spread over 10⁵, which Krylov methods
 * resolve slowly. Measured after 300 steps at n = 2048: 0.93·λmin (synthetic, 1024 tokens), 0.43·λmin
 * (OLMoE-shaped layer-0 Gram, 1265 tokens). Steps of ×1.6 keep the shift within 1.6× of the one
 * needed, i.e. within 2·|λmin| + tol, and cost one failed Cholesky per factor 1.6 the estimate is off.
 */
const GROWTH = [1.6, 2.5, 4, 6.4, 10];

interface Shifted {
  L: Matrix64;
  shift: number;
  attempts: number;
  /** largest shift whose Cholesky failed (−∞ when none did) */
  failed: number;
}

// Cholesky of G + s·I for s = magnitude + tol (magnitude = max(−λmin, 0)). With an exact λmin one try
// is the specification. A Lanczos estimate bounds λmin from above only: it is tried as is when its Ritz
// residual says it converged (to within tol), then the magnitude grows by GROWTH; a zero magnitude (the
// estimate ≥ 0, e.g. a singular Gram whose noise Lanczos did not reach) widens by 1e-6·10^j instead.
function factorShifted(
  g: Matrix64,
  magnitude: number,
  tol: number,
  est: MinEigenvalueEstimate,
  variant: PdRepair,
): Shifted {
  const detail = `λmin=${est.value}`;
  if (est.method === 'exact') {
    const shift = magnitude + tol;
    return { L: mustFactor(shifted(g, shift), variant, detail), shift, attempts: 1, failed: -Infinity };
  }
  const shifts: number[] = [];
  if (magnitude > 0) {
    if (est.residual <= tol) shifts.push(magnitude + tol);
    for (const c of GROWTH) shifts.push(c * magnitude + tol);
  }
  const base = GROWTH.at(-1)! * magnitude + tol;
  if (magnitude === 0) shifts.push(base);
  for (let j = 0; j < MAX_WIDENINGS; j++) shifts.push(base + 1e-6 * 10 ** j);
  let failed = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < shifts.length; i++) {
    const l = tryCholesky(shifted(g, shifts[i]!));
    if (l) return { L: l, shift: shifts[i]!, attempts: i + 1, failed };
    failed = shifts[i]!;
  }
  throw new EngineError(
    `Cholesky failed after the '${variant}' repair (${detail}, Lanczos estimate, shift widened up to ${shifts.at(-1)!})`,
    {
      file: FILE,
      field: 'G',
      hint: "try the 'clamp-eig' repair",
    },
  );
}

function shiftReport(est: MinEigenvalueEstimate, done: Shifted): Partial<PdRepairReport> {
  const out: Partial<PdRepairReport> = {
    minEigenvalue: est.value,
    eigenvalueMethod: est.method,
    shift: done.shift,
  };
  if (est.method === 'lanczos') out.minEigenvalueBracket = [-done.shift, Math.min(est.value, -done.failed)];
  return out;
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
      const skip = variant === 'shift-min-eig' && opts.rankDeficient === true;
      if (!skip) {
        const l = tryCholesky(g);
        if (l) return { L: l, repair: { variant, applied: false, attempts: 1 } };
      }
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
      const est = estimateMinEigenvalue(lower, { symmetric: true, ...opts.eig });
      // −λmin + 1e-6; the plain Cholesky failed (or G is known singular), so a positive λmin estimate is
      // an unconverged Ritz value (or rounding) and counts as 0
      const done = factorShifted(lower, Math.max(-est.value, 0), 1e-6, est, variant);
      return {
        L: done.L,
        repair: {
          variant,
          applied: true,
          ...shiftReport(est, done),
          attempts: done.attempts + (skip ? 0 : 1),
          ...(skip ? { skippedPlain: true } : {}),
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
      const est = estimateMinEigenvalue(s, { symmetric: true, ...opts.eig });
      const lmin = est.value;
      if (lmin >= tol) {
        const l = tryCholesky(s);
        if (l)
          return {
            L: l,
            repair: { variant, applied: false, minEigenvalue: lmin, eigenvalueMethod: est.method },
          };
      }
      const done = factorShifted(s, Math.max(0, -lmin), tol, est, variant);
      return {
        L: done.L,
        repair: {
          variant,
          applied: true,
          ...shiftReport(est, done),
          attempts: done.attempts + (lmin >= tol ? 1 : 0),
        },
      };
    }
  }
}
