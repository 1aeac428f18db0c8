// Child of wasm-threads.test.ts (run with tsx; MOE_THREADS set by the parent): starts the backend,
// then writes the thread count, one seeded matmul and the logits of a tiny model forward as JSON
// to the file named by argv[2]. Deterministic inputs, so two children can be compared exactly.
import { writeFileSync } from 'node:fs';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { openModel } from '../../src-main/engine/model/model';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

async function main(): Promise<void> {
  const [out, modelDir] = process.argv.slice(2) as [string, string];
  const report = await initBackend({ force: 'wasm' });
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // big enough that XNNPACK splits the product across its threads
  const [m, k, n] = [384, 320, 288];
  const a = tf.tensor2d(
    Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37)),
    [m, k],
  );
  const b = tf.tensor2d(
    Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11)),
    [k, n],
  );
  const product = Array.from(tf.matMul(a, b).dataSync());
  writeTinyCheckpoint(modelDir, {
    arch: 'mixtral',
    layers: 2,
    hidden: 128,
    seed: 7,
    overrides: { intermediate_size: 256 },
  });
  const model = openModel(modelDir);
  const ids = Array.from({ length: 96 }, (_, i) => (i * 37 + 5) % model.spec.vocab);
  const logits = Array.from(await sequenceLogits(model, ids));
  model.checkpoint.close();
  writeFileSync(
    out,
    JSON.stringify({
      threads: wasm.getThreadsCount(),
      reportThreads: report.threads,
      probe: report.probes.find((p) => p.name === 'wasm')?.reason ?? '',
      product,
      logits,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
