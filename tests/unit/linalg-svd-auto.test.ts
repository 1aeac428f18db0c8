// The default truncated SVD ('auto' with the schema's defaults) on a 1024×2048 matrix with the slowly
// decaying spectrum σ_i = 1/(i+1) of trained weights: it must take the randomized path and stay within
// 1 % of the optimal Frobenius error √Σ_{i≥r} σ_i² at r = 128 and r = 512. The matrix is
// H₁·[diag(σ) 0]·H₂ with three random Householder reflectors on each side, so the spectrum is known
// exactly; a Gaussian sketch is rotation invariant, so the randomized error depends on σ alone.
import { beforeAll, describe, expect, it } from 'vitest';
import { gemm64 } from '../../src-main/engine/linalg/gemm64';
import type { Matrix32 } from '../../src-main/engine/linalg/matrix';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { svdTruncated } from '../../src-main/engine/linalg/svd-truncated';
import { SvdOptions } from '../../src-main/engine/methods/params-common';
import { initBackend } from '../../src-main/engine/tensor/backend';

const [M, N] = [1024, 2048];
const sigma = Float64Array.from({ length: M }, (_, i) => 1 / (i + 1));

function powerLaw(): Matrix32 {
  const w = new Float64Array(M * N);
  for (let i = 0; i < M; i++) w[i * N + i] = sigma[i]!;
  const rng = xoshiro128ss(18);
  const unit = (len: number) => {
    const u = Float64Array.from({ length: len }, () => rng.gaussian());
    const s = Math.hypot(...u);
    return u.map((v) => v / s);
  };
  for (let t = 0; t < 3; t++) {
    const u = unit(M); // W ← (I − 2uuᵀ) W
    const uw = new Float64Array(N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) uw[j] += u[i]! * w[i * N + j]!;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) w[i * N + j] -= 2 * u[i]! * uw[j]!;
    const v = unit(N); // W ← W (I − 2vvᵀ)
    for (let i = 0; i < M; i++) {
      let s = 0;
      for (let j = 0; j < N; j++) s += w[i * N + j]! * v[j]!;
      for (let j = 0; j < N; j++) w[i * N + j] -= 2 * s * v[j]!;
    }
  }
  return { rows: M, cols: N, data: Float32Array.from(w) };
}

describe('auto SVD within 1 % of optimal on a power-law spectrum', () => {
  let w: Matrix32;
  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    w = powerLaw();
  });

  it.each([128, 512])(
    'r = %i: randomized, Frobenius error ≤ 1.01 × optimal',
    (r) => {
      const t = svdTruncated(w, r, SvdOptions.parse(undefined));
      expect(t.method).toBe('randomized');
      // ‖W − U diag(S) Vt‖_F in f64
      const us = Float64Array.from(t.U.data);
      for (let i = 0; i < M; i++) for (let j = 0; j < r; j++) us[i * r + j]! *= t.S[j]!;
      const rec = new Float64Array(M * N);
      gemm64(
        M,
        N,
        r,
        1,
        { data: us, offset: 0, ld: r },
        { data: Float64Array.from(t.Vt.data), offset: 0, ld: N },
        { data: rec, offset: 0, ld: N },
      );
      let err = 0;
      for (let i = 0; i < rec.length; i++) err += (w.data[i]! - rec[i]!) ** 2;
      let optimal = 0;
      for (let i = r; i < M; i++) optimal += sigma[i]! ** 2;
      const excess = Math.sqrt(err / optimal) - 1;
      expect(excess).toBeGreaterThan(-1e-4); // nothing beats the truncated SVD (a check on the measurement)
      expect(excess).toBeLessThanOrEqual(0.01);
    },
    120_000,
  );
});
