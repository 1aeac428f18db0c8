// Full logits of one sequence (for parity checks and `moe-bench logits`): [T, V] row-major.
import { type ExecutorOptions, StreamingExecutor } from './executor';
import type { LoadedModel } from './model';

export async function sequenceLogits(
  model: LoadedModel,
  ids: ArrayLike<number>,
  opts: ExecutorOptions = {},
): Promise<Float32Array> {
  const exec = new StreamingExecutor(model, opts);
  try {
    const x = await exec.forward(exec.embed([ids]));
    const V = model.spec.vocab;
    const out = new Float32Array(ids.length * V);
    try {
      await exec.logitsChunks(x.hidden, (r0, logits) => {
        out.set(logits.dataSync() as Float32Array, r0 * V);
      });
    } finally {
      x.hidden.dispose();
    }
    return out;
  } finally {
    exec.dispose();
  }
}
