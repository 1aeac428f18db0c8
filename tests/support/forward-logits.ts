// Every logit of a model (with layer overrides) on a few sequences, on the host: what the runner
// tests compare between a run, its resume and the in-memory path.
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import type { LoadedModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';

export async function forwardLogits(
  m: LoadedModel,
  overrides: Map<number, LayerOverride>,
  ids: number[][],
): Promise<Float32Array> {
  const exec = new StreamingExecutor(m, { overrides });
  const x = await exec.forward(exec.embed(ids));
  const parts: Float32Array[] = [];
  await exec.logitsChunks(x.hidden, (_r, l) => {
    parts.push(l.dataSync() as Float32Array);
  });
  x.hidden.dispose();
  exec.dispose();
  return Float32Array.from(parts.flatMap((p) => [...p]));
}
