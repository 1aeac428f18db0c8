// Linear-algebra figures for the low-rank decomposition path: tfjs GEMM throughput (with and without
// matMul's transpose flag), randomized vs exact SVD time and accuracy at expert-like shapes, and
// Cholesky / eigh timings. Test matrices have a power-law spectrum (σ_i ∝ 1/(i+1)), like trained weights.
import { cholesky } from '../src-main/engine/linalg/cholesky';
import { eigh } from '../src-main/engine/linalg/eigh';
import type { Matrix } from '../src-main/engine/linalg/matrix';
import { svdExact } from '../src-main/engine/linalg/svd-exact';
import { svdRandomized } from '../src-main/engine/linalg/svd-randomized';
import { initBackend, tf } from '../src-main/engine/tensor/backend';

function ms(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}
const round = (v: number, d = 1) => Number(v.toFixed(d));

function gemmGflops(n: number, transposeFlag: boolean): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2) as tf.Tensor2D;
  const run = () => tf.tidy(() => tf.matMul(a, b, false, transposeFlag)).dataSync();
  run();
  const reps = 3;
  const t = ms(() => {
    for (let i = 0; i < reps; i++) run();
  });
  a.dispose();
  b.dispose();
  return (2 * n ** 3 * reps) / (t * 1e6);
}

function powerLawMatrix(m: number, n: number, seed: number): Matrix {
  const k = Math.min(m, n);
  const w = tf.tidy(() => {
    const x = tf.randomNormal([m, k], 0, 1, 'float32', seed);
    const y = tf.randomNormal([k, n], 0, 1, 'float32', seed + 1);
    const d = tf.reshape(tf.div(1, tf.add(tf.range(0, k, 1, 'float32'), 1)), [1, k]);
    return tf.matMul(tf.mul(x, d), y);
  });
  const data = w.dataSync() as Float32Array;
  w.dispose();
  return { rows: m, cols: n, data };
}

/** σ from eigenvalues of the f32 Gram W Wᵀ (only where the exact f64 SVD is too slow for a bench) */
function gramSigma(w: Matrix): Float64Array {
  const g = tf.tidy(() => {
    const t = tf.tensor2d(w.data as Float32Array, [w.rows, w.cols]);
    return tf.matMul(t, tf.transpose(t));
  });
  const gd = { rows: w.rows, cols: w.rows, data: Float64Array.from(g.dataSync()) };
  g.dispose();
  const { values } = eigh(gd, { vectors: false });
  return Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0))).reverse();
}

function residualEnergy(w: Matrix, U: Matrix, S: Float64Array, Vt: Matrix): number {
  return tf.tidy(() => {
    const us = tf.mul(
      tf.tensor2d(U.data as Float32Array, [U.rows, U.cols]),
      tf.tensor2d(Float32Array.from(S), [1, S.length]),
    );
    const rec = tf.matMul(us, tf.tensor2d(Float32Array.from(Vt.data), [Vt.rows, Vt.cols]));
    const diff = tf.sub(tf.tensor2d(w.data as Float32Array, [w.rows, w.cols]), rec);
    return tf.sum(tf.square(diff)).dataSync()[0]!;
  });
}

export async function run(): Promise<Record<string, number | string>> {
  const backend = await initBackend();
  const out: Record<string, number | string> = { backend: backend.active };
  out['gemm 1024³ GFLOP/s (plain)'] = round(gemmGflops(1024, false));
  out['gemm 512³ GFLOP/s (transposeB flag)'] = round(gemmGflops(512, true));

  const cases: [number, number, number[], boolean][] = [
    [256, 512, [32, 128], true],
    [512, 1024, [32, 128, 256], true],
    [1024, 2816, [32, 128], false],
  ];
  for (const [m, n, ranks, withExact] of cases) {
    const w = powerLawMatrix(m, n, m);
    let sigma: Float64Array<ArrayBufferLike>;
    const tag = `${m}x${n}`;
    if (withExact) {
      let s: Float64Array = new Float64Array(0);
      out[`${tag} exact SVD ms`] = round(
        ms(() => (s = svdExact(w).S)),
        0,
      );
      sigma = s;
    } else {
      sigma = gramSigma(w);
      out[`${tag} exact SVD ms`] = 'skipped (minutes in f64 TS here); σ reference from eig(W Wᵀ)';
    }
    let total = 0;
    for (const v of sigma) total += v * v;
    for (const r of ranks) {
      let res = svdRandomized(w, r);
      out[`${tag} r=${r} randomized ms (p=10,q=2)`] = round(
        ms(() => (res = svdRandomized(w, r))),
        0,
      );
      let worst = 0;
      for (let i = 0; i < r; i++) worst = Math.max(worst, Math.abs(res.S[i]! - sigma[i]!) / sigma[i]!);
      let kept = 0;
      for (let i = 0; i < r; i++) kept += sigma[i]! ** 2;
      const optimal = total - kept;
      out[`${tag} r=${r} max rel err top-r σ`] = Number(worst.toExponential(2));
      out[`${tag} r=${r} residual / optimal`] = round(residualEnergy(w, res.U, res.S, res.Vt) / optimal, 5);
      out[`${tag} r=${r} orthonormalisation`] = [...new Set(res.ortho)].join('+');
    }
  }

  for (const n of [512, 1024]) {
    const g = tf.tidy(() => {
      const x = tf.randomNormal([2 * n, n], 0, 1, 'float32', 7);
      return tf.matMul(tf.transpose(x), x);
    });
    const gd = { rows: n, cols: n, data: Float64Array.from(g.dataSync()) };
    g.dispose();
    out[`cholesky ${n} ms`] = round(
      ms(() => cholesky(gd)),
      0,
    );
    out[`eigvalsh ${n} ms`] = round(
      ms(() => eigh(gd, { vectors: false })),
      0,
    );
    out[`eigh (with vectors) ${n} ms`] = round(
      ms(() => eigh(gd)),
      0,
    );
  }
  return out;
}
