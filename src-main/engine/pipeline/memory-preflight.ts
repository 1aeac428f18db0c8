// Memory pre-flight: refuse a run that cannot fit before any compute. Two schedules:
//  * per layer (a plain statsBytes number: merge, prune, D²-MoE, slimming, MoE-SVD): largest decoder
//    layer in f32 three times (the HF view a method reads, the executor's transposed copy, the new
//    factors) + calibration activations + the step's statistics for the whole layer at once;
//  * per expert (a StepMemory: svd, asvd, svd-llm): the largest of the step's phases — the
//    calibration sweep (the executor's f32 copy of the layer, which is freed after every batch), one
//    expert's statistics / whitening / factorisation, the new layer view — plus what the step keeps
//    across the layer (the capture's in-memory part, the factors as they accumulate) and the
//    calibration activations. Every term is reported; the message names the largest ones.
import os from 'node:os';
import { EngineError } from '../errors';
import { layerTensors } from '../model/tensor-layout';
import type { ModelSpec } from '../model/types';

export interface MemoryTerm {
  /** what is held, with its shape (e.g. "intermediate Gram 14336² f64") */
  label: string;
  bytes: number;
}

export interface MemoryPhase {
  name: string;
  terms: MemoryTerm[];
}

/** A step that works expert by expert: the phases it goes through one at a time, and what it keeps throughout. */
export interface StepMemory {
  schedule: 'per-expert';
  phases: MemoryPhase[];
  held: MemoryTerm[];
}

export interface MemoryEstimate {
  schedule: 'per-layer' | 'per-expert';
  /** per layer: 3 × the largest layer in f32; per expert: the peak phase */
  layerBytes: number;
  activationBytes: number;
  /** per layer: the step's statistics; per expert: what the step holds across the layer */
  gramBytes: number;
  totalBytes: number;
  /** the phase that sets the peak */
  peakPhase: string;
  /** every term of the total, largest first */
  terms: MemoryTerm[];
}

const GiB = 2 ** 30;
const fmt = (b: number) => `${(b / GiB).toFixed(2)} GiB`;
const sum = (ts: readonly MemoryTerm[]) => ts.reduce((a, t) => a + t.bytes, 0);

function largestLayerParams(spec: ModelSpec): number {
  let largest = 0;
  for (let l = 0; l < spec.layers; l++) {
    const n = layerTensors(spec, l).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    largest = Math.max(largest, n);
  }
  return largest;
}

function activationTerms(spec: ModelSpec, cal: { samples: number; seqLen: number; batch: number }) {
  const rows = cal.samples * cal.seqLen;
  const chunkRows = Math.min(1024, cal.batch * cal.seqLen);
  const wide = Math.max(spec.hidden, spec.moeIntermediate, spec.intermediate);
  return {
    held: {
      label: `calibration hidden states in and out (${rows} tokens × ${spec.hidden} f32, twice)`,
      bytes: 4 * 2 * rows * spec.hidden,
    },
    chunk: {
      label: `one token chunk's activations (${chunkRows} × ${wide} f32, three) + attention score block`,
      bytes: 4 * 3 * chunkRows * wide + 64 * 2 ** 20,
    },
  };
}

export function estimateRunMemory(
  spec: ModelSpec,
  cal: { samples: number; seqLen: number; batch: number },
  /** the step declaration's statsBytes: bytes held for a whole layer, or its per-expert schedule */
  stats: number | StepMemory,
): MemoryEstimate {
  const largest = largestLayerParams(spec);
  const act = activationTerms(spec, cal);
  const activationBytes = act.held.bytes + act.chunk.bytes;
  if (typeof stats === 'number') {
    const layer = {
      label: `largest decoder layer in f32, three copies (${largest} params)`,
      bytes: 12 * largest,
    };
    const st = { label: "the step's statistics for a whole layer", bytes: stats };
    const terms = [layer, act.held, act.chunk, st].sort((a, b) => b.bytes - a.bytes);
    return {
      schedule: 'per-layer',
      layerBytes: layer.bytes,
      activationBytes,
      gramBytes: stats,
      totalBytes: layer.bytes + activationBytes + stats,
      peakPhase: 'layer',
      terms,
    };
  }
  const sweep: MemoryPhase = {
    name: 'calibration sweep',
    terms: [
      { label: `the executor's f32 copy of the largest layer (${largest} params)`, bytes: 4 * largest },
      act.chunk,
    ],
  };
  let peak = sweep;
  for (const p of stats.phases) if (sum(p.terms) > sum(peak.terms)) peak = p;
  const layerBytes = sum(peak.terms);
  const gramBytes = sum(stats.held);
  const terms = [...peak.terms, ...stats.held, act.held].sort((a, b) => b.bytes - a.bytes);
  return {
    schedule: 'per-expert',
    layerBytes,
    activationBytes: act.held.bytes,
    gramBytes,
    totalBytes: layerBytes + gramBytes + act.held.bytes,
    peakPhase: peak.name,
    terms,
  };
}

/** "a (1.53 GiB), b (0.66 GiB), …" for the largest terms. */
export function describeTerms(est: MemoryEstimate, count = 4): string {
  return est.terms
    .filter((t) => t.bytes > 0)
    .slice(0, count)
    .map((t) => `${t.label}: ${fmt(t.bytes)}`)
    .join('; ');
}

export function checkMemory(est: MemoryEstimate, availableBytes: number = os.freemem()): void {
  if (est.totalBytes <= availableBytes) return;
  const where =
    est.schedule === 'per-expert'
      ? `peak while ${est.peakPhase}, expert by expert`
      : `largest layer ${fmt(est.layerBytes)}, calibration activations ${fmt(est.activationBytes)}, statistics ${fmt(est.gramBytes)}`;
  throw new EngineError(
    `memory pre-flight: this run needs about ${fmt(est.totalBytes)} (${where}) but only ${fmt(availableBytes)} is available; largest terms: ${describeTerms(est)}`,
    {
      field: 'calibration',
      hint:
        est.schedule === 'per-expert'
          ? `the estimate is driven by ${est.terms[0]?.label ?? 'the step'}; lower calibration.samples or calibration.seqLen (or MOE_CAPTURE_BUDGET_MB), pick a lower rank, or free memory`
          : 'lower calibration.samples or calibration.seqLen, or free memory',
    },
  );
}
