// diagnostics.gemm: GEMM throughput of the active backend, one metric `gflops@N` per size.
import { tf } from '../tensor/backend';
import type { GemmParams } from './diagnostics-gemm.params';
import type { JobContext } from './job-context';

export interface GemmResult {
  backend: string;
  sizes: { size: number; gflops: number; products: number; seconds: number }[];
}

export async function run(ctx: JobContext, params: GemmParams): Promise<GemmResult> {
  const out: GemmResult = { backend: ctx.backend, sizes: [] };
  const count = params.sizes.length;
  for (const [i, n] of params.sizes.entries()) {
    ctx.throwIfCancelled();
    ctx.progress({ step: `gemm ${n}`, fraction: i / count, message: `measuring ${n}x${n}` });
    const a = tf.randomUniform([n, n], -1, 1, 'float32', 1000 + i);
    const b = tf.randomUniform([n, n], -1, 1, 'float32', 2000 + i);
    try {
      tf.matMul(a, b).dataSync(); // warm-up: kernel setup and allocation are not throughput
      let products = 0;
      const t0 = performance.now();
      let elapsed = 0;
      let lastReport = t0;
      while (elapsed < params.seconds * 1000) {
        ctx.throwIfCancelled();
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
        products++;
        const now = performance.now();
        elapsed = now - t0;
        if (now - lastReport > 250) {
          lastReport = now;
          const within = Math.min(1, elapsed / (params.seconds * 1000));
          ctx.progress({ step: `gemm ${n}`, fraction: (i + within) / count });
          // let the cancel message reach the worker's event loop
          await new Promise((r) => setImmediate(r));
        }
      }
      const seconds = elapsed / 1000;
      const gflops = (2 * n ** 3 * products) / seconds / 1e9;
      ctx.record.metric(`gflops@${n}`, gflops, { headline: true });
      out.sizes.push({ size: n, gflops, products, seconds });
    } finally {
      a.dispose();
      b.dispose();
    }
  }
  ctx.progress({ step: 'done', fraction: 1 });
  return out;
}
