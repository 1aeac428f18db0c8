// Randomized truncated SVD (Halko–Martinsson–Tropp 2011, Alg. 4.4 subspace iteration): a seeded
// Gaussian sketch, q power iterations with re-orthonormalisation after every product, then the exact
// f64 SVD of the small (l×n) core. All products with W run on the tfjs backend against explicitly
// materialised W and Wᵀ (no matMul transpose flags).
import { EngineError } from '../errors';
import { tf } from '../tensor/backend';
import { assertFinite, fromTensor, type Matrix, type Matrix32, to64, toTensor, transpose } from './matrix';
import { type OrthoMethod, orthonormalizeTf } from './orthonormalize';
import { xoshiro128ss } from './prng';
import { type SVD, svdExact } from './svd-exact';

const FILE = 'engine/linalg/svd-randomized';

export interface RandomizedSvdOptions {
  /** extra sketch columns beyond r (default 10) */
  oversampling?: number;
  /** power iterations (default 2) */
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
  const p = opts.oversampling ?? 10;
  const q = opts.powerIters ?? 2;
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
  const orth = (y: tf.Tensor2D): tf.Tensor2D => {
    const { Q, method } = orthonormalizeTf(y);
    ortho.push(method);
    y.dispose();
    return Q;
  };
  let Q: tf.Tensor2D;
  let bt: Matrix32;
  try {
    Q = orth(tf.tidy(() => tf.matMul(W, tf.tensor2d(omega, [n, l]))));
    for (let i = 0; i < q; i++) {
      const Z = orth(tf.matMul(Wt, Q));
      Q.dispose();
      Q = orth(tf.matMul(W, Z));
      Z.dispose();
    }
    const btT = tf.matMul(Wt, Q); // (Qᵀ W)ᵀ, n×l
    bt = fromTensor(btT);
    btT.dispose();
  } finally {
    W.dispose();
    Wt.dispose();
  }
  // core: Bᵀ = Ub Sb Vbᵀ  ⇒  B = Vb Sb Ubᵀ, so U = Q Vb[:, :r] and Vt = Ub[:, :r]ᵀ
  const core = svdExact(to64(bt));
  const vbr = new Float32Array(l * r);
  for (let i = 0; i < l; i++) for (let j = 0; j < r; j++) vbr[i * r + j] = core.Vt.data[j * l + i]!;
  const uT = tf.tidy(() => tf.matMul(Q, tf.tensor2d(vbr, [l, r])));
  Q.dispose();
  const U = fromTensor(uT);
  uT.dispose();
  const ubr = new Float32Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) ubr[i * r + j] = core.U.data[i * l + j]!;
  return { U, S: core.S.slice(0, r), Vt: transpose({ rows: n, cols: r, data: ubr }), ortho };
}
