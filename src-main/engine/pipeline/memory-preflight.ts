// Memory pre-flight: refuse a run that cannot fit before any compute. Estimate = largest decoder
// layer in f32 (twice: the HF view a method reads and the executor's transposed copy, plus the new
// factors) + calibration activations (hidden states in and out, the normed copy and one expert
// chunk) + attention score block + per-expert Gram accumulators (f64, input and intermediate).
import os from 'node:os';
import { EngineError } from '../errors';
import { layerTensors } from '../model/tensor-layout';
import type { ModelSpec } from '../model/types';

export interface MemoryEstimate {
  layerBytes: number;
  activationBytes: number;
  gramBytes: number;
  totalBytes: number;
}

const GiB = 2 ** 30;
const fmt = (b: number) => `${(b / GiB).toFixed(2)} GiB`;

export function estimateRunMemory(
  spec: ModelSpec,
  cal: { samples: number; seqLen: number; batch: number },
  /** bytes of statistics the step holds at once (its declaration's statsBytes) */
  statsBytes: number,
): MemoryEstimate {
  let largest = 0;
  for (let l = 0; l < spec.layers; l++) {
    const n = layerTensors(spec, l).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    largest = Math.max(largest, n);
  }
  const layerBytes = 3 * 4 * largest;
  const rows = cal.samples * cal.seqLen;
  const chunkRows = Math.min(1024, cal.batch * cal.seqLen);
  const activationBytes =
    4 *
      (2 * rows * spec.hidden +
        3 * chunkRows * Math.max(spec.hidden, spec.moeIntermediate, spec.intermediate)) +
    64 * 2 ** 20;
  const gramBytes = statsBytes;
  return { layerBytes, activationBytes, gramBytes, totalBytes: layerBytes + activationBytes + gramBytes };
}

export function checkMemory(est: MemoryEstimate, availableBytes: number = os.freemem()): void {
  if (est.totalBytes > availableBytes) {
    throw new EngineError(
      `memory pre-flight: this run needs about ${fmt(est.totalBytes)} (largest layer ${fmt(est.layerBytes)}, calibration activations ${fmt(est.activationBytes)}, statistics ${fmt(est.gramBytes)}) but only ${fmt(availableBytes)} is available`,
      { field: 'calibration', hint: 'lower calibration.samples or calibration.seqLen, or free memory' },
    );
  }
}
