// Scaled low-rank factorisation (METHODS §1.2 steps 4–5): W S = U Σ Vᵀ, A = U_r √Σ_r (out×r),
// B = √Σ_r V_rᵀ S⁻¹ (r×in), W ≈ A B. With S = chol(XᵀX) the discarded energy Σ_{i>r} σ_i(W S)² equals
// the output error ‖(W − A B) Xᵀ‖²_F on the calibration tokens.
import { EngineError } from '../../errors';
import { matmul64, matmulTf } from '../../linalg/matmul';
import { assertFinite, type Matrix, type Matrix32, to64 } from '../../linalg/matrix';
import type { RandomizedSvdOptions } from '../../linalg/svd-randomized';
import { type SvdMethod, svdTruncated } from '../../linalg/svd-truncated';
import type { Scale } from './scaling';

const FILE = 'engine/methods/lowrank/factorize';

/** products above this many flops go to the tfjs backend (f32); below, the f64 kernel is cheap */
const TF_PRODUCT_FLOPS = 2e8;

export interface FactorizeOptions extends RandomizedSvdOptions {
  method?: SvdMethod;
}

export interface LowRankFactors {
  /** out×r */
  A: Matrix32;
  /** r×in */
  B: Matrix32;
  /** the r kept singular values of W S */
  singularValues: Float64Array;
  /** Σ_{i>r} σ_i(W S)²: summed directly on the exact path, ‖W S‖²_F − Σ_{i≤r} σ_i² on the randomized one */
  discardedEnergy: number;
  /** ‖W S‖²_F */
  totalEnergy: number;
  method: 'exact' | 'randomized';
}

function product(a: Matrix, b: Matrix): Matrix {
  return 2 * a.rows * a.cols * b.cols > TF_PRODUCT_FLOPS ? matmulTf(a, b) : matmul64(a, b);
}

function scaled(w: Matrix, scale: Scale): Matrix {
  switch (scale.kind) {
    case 'identity':
      return w;
    case 'diagonal': {
      const out = to64(w).data.slice();
      const { cols } = w;
      for (let i = 0; i < out.length; i += cols) for (let j = 0; j < cols; j++) out[i + j] *= scale.d[j]!;
      return { rows: w.rows, cols, data: out };
    }
    case 'lower':
      return product(w, scale.L);
  }
}

function applyInverse(c: Matrix, scale: Scale): Matrix {
  switch (scale.kind) {
    case 'identity':
      return c;
    case 'diagonal': {
      const out = to64(c).data.slice();
      const { cols } = c;
      for (let i = 0; i < out.length; i += cols) for (let j = 0; j < cols; j++) out[i + j] *= scale.dInv[j]!;
      return { rows: c.rows, cols, data: out };
    }
    case 'lower':
      return product(c, scale.Linv);
  }
}

/** W: [out, in] (HF layout). rank in [0, min(out, in)]. */
export function factorizeLowRank(
  w: Matrix,
  rank: number,
  scale: Scale,
  opts: FactorizeOptions = {},
): LowRankFactors {
  if (scale.dim !== w.cols) {
    throw new EngineError(`scale is for ${scale.dim} input channels but W is ${w.rows}x${w.cols}`, {
      file: FILE,
      field: 'scale',
    });
  }
  assertFinite(w, FILE, 'W');
  const ws = scaled(w, scale);
  let totalEnergy = 0;
  for (let i = 0; i < ws.data.length; i++) totalEnergy += ws.data[i]! * ws.data[i]!;
  const { U, S, Vt, method, tailEnergy } = svdTruncated(ws, rank, opts);
  const r = S.length;
  const sq = S.map(Math.sqrt);
  const a = new Float32Array(w.rows * r);
  for (let i = 0; i < w.rows; i++) for (let j = 0; j < r; j++) a[i * r + j] = U.data[i * r + j]! * sq[j]!;
  const c = new Float64Array(r * w.cols);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < w.cols; j++) c[i * w.cols + j] = sq[i]! * Vt.data[i * w.cols + j]!;
  const b = applyInverse({ rows: r, cols: w.cols, data: c }, scale);
  let kept = 0;
  for (const s of S) kept += s * s;
  return {
    A: { rows: w.rows, cols: r, data: a },
    B: { rows: r, cols: w.cols, data: b.data instanceof Float32Array ? b.data : Float32Array.from(b.data) },
    singularValues: S,
    discardedEnergy: tailEnergy ?? Math.max(0, totalEnergy - kept),
    totalEnergy,
    method,
  };
}
