// Randomized truncated SVD (Halko–Martinsson–Tropp 2011, Alg. 4.4 subspace iteration): a seeded
// Gaussian sketch, q power iterations with a well-conditioned basis taken after every product (one
// CholQR round, skipped for Wᵀ products once they prove well conditioned; full orthonormalisation only
// for the last, which defines U), then the SVD of
// the small (l×n) core in f64 (eigenvectors of its l×l Gram, see coreSvd). All products with W run on
// the tfjs backend against explicitly materialised W and Wᵀ (no matMul transpose flags).
import { EngineError } from '../errors';
import { tf } from '../tensor/backend';
import { eigh } from './eigh';
import { gemm64 } from './gemm64';
import { assertFinite, fromTensor, type Matrix, type Matrix32, to64, toTensor, transpose } from './matrix';
import { type OrthoMethod, orthonormalizeTf, wellConditionedBasisTf } from './orthonormalize';
import { xoshiro128ss } from './prng';
import { type SVD, svdExact } from './svd-exact';

const FILE = 'engine/linalg/svd-randomized';

export const DEFAULT_OVERSAMPLING = 10;
export const DEFAULT_POWER_ITERS = 4;
/** diag(R) ratio of the first Z basis up to which later Z skip theirs (κ(W Z) ≲ 100 ≪ the 1e3 guard) */
const SKIP_Z_RATIO = 4;

export interface RandomizedSvdOptions {
  /** extra sketch columns beyond r (default 10) */
  oversampling?: number;
  /** power iterations (default 4: within 1 % of the optimal error on slowly decaying spectra, see svd-truncated) */
  powerIters?: number;
  /** seed of the Gaussian test matrix (default 0) */
  seed?: number;
}

export interface RandomizedSvd extends SVD<Matrix32> {
  /** how each orthonormalisation was done (the first entry is the initial sketch) */
  ortho: OrthoMethod[];
}

export function checkRank(a: Matrix, r: number, file: string): void {
  const k = Math.min(a.rows, a.cols);
  if (!Number.isInteger(r) || r < 0 || r > k) {
    throw new EngineError(`rank must be an integer in [0, ${k}] for a ${a.rows}x${a.cols} matrix, got ${r}`, {
      file,
      field: 'rank',
    });
  }
}

export function svdRandomized(w: Matrix, r: number, opts: RandomizedSvdOptions = {}): RandomizedSvd {
  checkRank(w, r, FILE);
  assertFinite(w, FILE, 'W');
  const p = opts.oversampling ?? DEFAULT_OVERSAMPLING;
  const q = opts.powerIters ?? DEFAULT_POWER_ITERS;
  if (!Number.isInteger(p) || p < 0)
    throw new EngineError(`must be an integer ≥ 0, got ${p}`, { file: FILE, field: 'oversampling' });
  if (!Number.isInteger(q) || q < 0)
    throw new EngineError(`must be an integer ≥ 0, got ${q}`, { file: FILE, field: 'powerIters' });
  const { rows: m, cols: n } = w;
  const l = Math.min(r + p, m, n);
  if (r === 0 || l === 0) {
    return {
      U: { rows: m, cols: 0, data: new Float32Array(0) },
      S: new Float64Array(0),
      Vt: { rows: 0, cols: n, data: new Float32Array(0) },
      ortho: [],
    };
  }
  const rng = xoshiro128ss(opts.seed ?? 0);
  const omega = new Float32Array(n * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.gaussian();

  const ortho: OrthoMethod[] = [];
  const W = toTensor(w);
  const Wt = tf.tidy(() => tf.transpose(W).clone());
  // every basis but the last only feeds the next product, so one (shifted) CholQR round suffices there
  let ratio = Number.POSITIVE_INFINITY;
  const orth = (y: tf.Tensor2D, last = false): tf.Tensor2D => {
    const b = last ? orthonormalizeTf(y) : wellConditionedBasisTf(y);
    ortho.push(b.method);
    ratio = (b as { diagonalRatio?: number }).diagonalRatio ?? Number.POSITIVE_INFINITY;
    y.dispose();
    return b.Q;
  };
  // Z = Wᵀ Q has κ(Z) ≈ κ of W on span(Q); when its first basis shows that to be small (a flat spectrum,
  // e.g. a whitened weight), the later Z are used unorthonormalised: Y = W Z then has κ ≈ κ(Z)², which
  // the next CholQR round takes in one go (its κ guard falls back to the shifted rounds if not), and
  // the spans, hence the result, are the same up to f32 rounding.
  let skipZ = false;
  const basisOfZ = (z: tf.Tensor2D): tf.Tensor2D => {
    if (skipZ) {
      ortho.push('skipped');
      return z;
    }
    const out = orth(z);
    skipZ = ratio <= SKIP_Z_RATIO;
    return out;
  };
  let Q: tf.Tensor2D;
  let bt: Matrix32;
  try {
    Q = orth(
      tf.tidy(() => tf.matMul(W, tf.tensor2d(omega, [n, l]))),
      q === 0,
    );
    for (let i = 0; i < q; i++) {
      const Z = basisOfZ(tf.matMul(Wt, Q));
      Q.dispose();
      Q = orth(tf.matMul(W, Z), i === q - 1);
      Z.dispose();
    }
    const btT = tf.matMul(Wt, Q); // (Qᵀ W)ᵀ, n×l
    bt = fromTensor(btT);
    btT.dispose();
  } finally {
    W.dispose();
    Wt.dispose();
  }
  const core = coreSvd(bt, r);
  const uT = tf.tidy(() => tf.matMul(Q, tf.tensor2d(core.leftR, [l, r])));
  Q.dispose();
  const U = fromTensor(uT);
  uT.dispose();
  return { U, S: core.S, Vt: transpose({ rows: n, cols: r, data: core.rightR }), ortho };
}

/** below this σ_r/σ_1 the Gram route loses the trailing triplets' accuracy: use the exact core SVD */
const GRAM_CORE_MIN_RATIO = 1e-5;

// SVD of the l×n core B from Bᵀ (n×l): eigh of the l×l Gram B Bᵀ in f64 (the Gram through the f64 GEMM:
// σ_i come out to ~ε₆₄·σ₁²/σ_i, far below the f32 error B already carries), then V_r = Bᵀ U_r Σ_r⁻¹ on
// the tfjs backend. Returns U_r (l×r) and V_r (n×r), both row-major f32. When σ_r/σ₁ is tiny (rank-
// deficient input) the division would amplify noise, so the exact f64 SVD of Bᵀ takes over.
function coreSvd(bt: Matrix32, r: number): { S: Float64Array; leftR: Float32Array; rightR: Float32Array } {
  const { rows: n, cols: l } = bt;
  const b64 = to64(bt).data;
  const g = new Float64Array(l * l);
  gemm64(
    l,
    l,
    n,
    1,
    { data: b64, offset: 0, ld: l, trans: true },
    { data: b64, offset: 0, ld: l },
    { data: g, offset: 0, ld: l },
  );
  const { values, vectors } = eigh({ rows: l, cols: l, data: g });
  const S = new Float64Array(r);
  for (let j = 0; j < r; j++) S[j] = Math.sqrt(Math.max(values[l - 1 - j]!, 0));
  const leftR = new Float32Array(l * r);
  if (S[0]! > 0 && S[r - 1]! > GRAM_CORE_MIN_RATIO * S[0]!) {
    const V = vectors!.data;
    const scaled = new Float32Array(l * r);
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < r; j++) {
        const v = V[i * l + (l - 1 - j)]!;
        leftR[i * r + j] = v;
        scaled[i * r + j] = v / S[j]!;
      }
    }
    const rT = tf.tidy(() => tf.matMul(tf.tensor2d(bt.data, [n, l]), tf.tensor2d(scaled, [l, r])));
    const rightR = fromTensor(rT).data;
    rT.dispose();
    return { S, leftR, rightR };
  }
  // Bᵀ = Ub Sb Vbᵀ  ⇒  B = Vb Sb Ubᵀ: left factor Vb[:, :r], right factor Ub[:, :r]
  const exact = svdExact(to64(bt));
  const rightR = new Float32Array(n * r);
  for (let i = 0; i < l; i++) for (let j = 0; j < r; j++) leftR[i * r + j] = exact.Vt.data[j * l + i]!;
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) rightR[i * r + j] = exact.U.data[i * l + j]!;
  return { S: exact.S.slice(0, r), leftR, rightR };
}
