// Linear algebra of the low-rank path against LAPACK on the same matrices (bench/anchors/numpy_linalg.py
// writes them; we read them back): the default randomized SVD (svdTruncated 'auto') of a 1024×2048
// power-law matrix at r = 128 and 512 — time, and Frobenius excess over the optimal truncated error
// √Σ_{i>r} σ_i² from LAPACK's singular values — against numpy's thin full SVD of it; the f64 blocked
// Cholesky and triangular inverse of a 4096 calibration-like Gram (κ ≈ 1e9) against LAPACK potrf/trtri,
// with both identity errors (products in f64 BLAS in the child). numpy runs with its default BLAS
// threads (every core, as a user's numpy would): our f64 kernels are single-threaded JS, the SVD's f32
// products use the backend's threads (MOE_THREADS), so the ratios are machine against machine.
// The exact f64 SVD is timed on the 512×1024 top-left block: on the full 1024×2048 it takes minutes here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tryCholesky } from '../../src-main/engine/linalg/cholesky';
import type { Matrix, Matrix32, Matrix64 } from '../../src-main/engine/linalg/matrix';
import { svdExact } from '../../src-main/engine/linalg/svd-exact';
import { svdTruncated } from '../../src-main/engine/linalg/svd-truncated';
import { tryInvertLower } from '../../src-main/engine/linalg/triangular';
import { activeBackend, tf } from '../../src-main/engine/tensor/backend';

type Figures = Record<string, number | string>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ANCHOR = path.join(ROOT, 'bench/anchors/numpy_linalg.py');
const [M, N] = [1024, 2048];
const NG = 4096;

const round = (x: number, d = 3) => Number(x.toPrecision(d));

function seconds<T>(f: () => T): { value: T; seconds: number } {
  const t0 = performance.now();
  const value = f();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

function python(cmd: string, dir: string): Record<string, number | string> {
  const r = spawnSync('python3', [ANCHOR, cmd, dir], {
    env: process.env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0)
    throw new Error(`numpy_linalg ${cmd} failed: ${(r.stderr || r.error?.message || '').trim().slice(-300)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const readF32 = (file: string) => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const readF64 = (file: string) => {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

// Without numpy: the same kinds of matrix from tfjs (timings only; no σ, so no excess figures)
function ownMatrices(): { w: Matrix32; g: Matrix64 } {
  const w = tf.tidy(() => {
    const x = tf.randomNormal([M, M], 0, 1, 'float32', 18);
    const y = tf.randomNormal([M, N], 0, 1, 'float32', 19);
    return tf.matMul(tf.mul(x, tf.reshape(tf.div(1, tf.range(1, M + 1, 1, 'float32')), [1, M])), y);
  });
  const wData = w.dataSync() as Float32Array;
  w.dispose();
  const gT = tf.tidy(() => {
    const x = tf.randomNormal([NG, NG / 2], 0, 1, 'float32', 20);
    return tf.div(tf.matMul(x, x, false, true), NG / 2);
  });
  const g = Float64Array.from(gT.dataSync() as Float32Array);
  gT.dispose();
  // f32 rounding of the product: symmetrise and keep it clearly positive definite
  for (let i = 0; i < NG; i++) {
    for (let j = 0; j < i; j++) g[i * NG + j] = g[j * NG + i] = 0.5 * (g[i * NG + j]! + g[j * NG + i]!);
    g[i * NG + i] += 1e-2;
  }
  return { w: { rows: M, cols: N, data: wData }, g: { rows: NG, cols: NG, data: g } };
}

/** ‖W − U diag(S) Vt‖_F², the product on the backend, the difference summed in f64 */
function residualEnergy(w: Matrix32, U: Matrix, S: Float64Array, Vt: Matrix): number {
  const r = S.length;
  const rec = tf.tidy(() => {
    const us = tf.mul(
      tf.tensor2d(Float32Array.from(U.data), [U.rows, r]),
      tf.tensor2d(Float32Array.from(S), [1, r]),
    );
    return tf.matMul(us, tf.tensor2d(Float32Array.from(Vt.data), [r, Vt.cols])).dataSync() as Float32Array;
  });
  let e = 0;
  for (let i = 0; i < w.data.length; i++) e += (w.data[i]! - rec[i]!) ** 2;
  return e;
}

export async function linalgScale(): Promise<Figures> {
  const figs: Figures = {
    threads: activeBackend()?.threads ?? 1,
    svdMatrix: `${M}x${N} power-law`,
    gram: `${NG} κ≈1e9`,
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'scale-linalg-'));
  try {
    const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
    let w: Matrix32;
    let g: Matrix64;
    let sigma: Float64Array | null = null;
    if (hasNumpy) {
      python('make', dir);
      w = { rows: M, cols: N, data: readF32(path.join(dir, 'w.bin')) };
      g = { rows: NG, cols: NG, data: readF64(path.join(dir, 'gram.bin')) };
      Object.assign(figs, python('anchor', dir));
      sigma = readF64(path.join(dir, 'sigma.bin'));
    } else {
      figs.numpy = 'python3 + numpy not found: anchors skipped';
      ({ w, g } = ownMatrices());
    }

    svdTruncated(w, 16); // warm-up: the backend's first kernels compile; LAPACK's time is a best-of too
    for (const r of [128, 512]) {
      // r = 128 (the speedup's numerator) best of 2 against noise, as LAPACK's is
      const { value: svd, seconds: first } = seconds(() => svdTruncated(w, r));
      const s = r === 128 ? Math.min(first, seconds(() => svdTruncated(w, r)).seconds) : first;
      figs[`rsvdSeconds${r}`] = round(s);
      figs[`rsvdMethod${r}`] = svd.method;
      if (sigma) {
        let optimal = 0;
        for (let i = r; i < sigma.length; i++) optimal += sigma[i]! ** 2;
        figs[`rsvdExcess${r}`] = round(Math.sqrt(residualEnergy(w, svd.U, svd.S, svd.Vt) / optimal) - 1);
      }
    }
    if (typeof figs.lapackSvdSeconds === 'number')
      figs.rsvdVsLapackSpeedup = round(figs.lapackSvdSeconds / (figs.rsvdSeconds128 as number));

    const block = new Float32Array((M / 2) * (N / 2));
    for (let i = 0; i < M / 2; i++) block.set(w.data.subarray(i * N, i * N + N / 2), (i * N) / 2);
    figs.exactSvdShape = `${M / 2}x${N / 2}`;
    figs.exactSvdSeconds = round(seconds(() => svdExact({ rows: M / 2, cols: N / 2, data: block })).seconds);

    const chol = seconds(() => tryCholesky(g));
    if (!chol.value) throw new Error('Cholesky of the 4096 Gram failed');
    figs.cholesky4096Seconds = round(chol.seconds);
    const inv = seconds(() => tryInvertLower(chol.value!));
    if (!inv.value) throw new Error('inverse of the 4096 Cholesky factor failed');
    figs.invLower4096Seconds = round(inv.seconds);
    if (hasNumpy) {
      figs.cholesky4096Ratio = round(chol.seconds / (figs.lapackCholesky4096Seconds as number));
      figs.invLower4096Ratio = round(inv.seconds / (figs.lapackInvLower4096Seconds as number));
      writeFileSync(path.join(dir, 'L.bin'), chol.value.data);
      writeFileSync(path.join(dir, 'Linv.bin'), inv.value.data);
      Object.assign(figs, python('check', dir));
    }
    return figs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
