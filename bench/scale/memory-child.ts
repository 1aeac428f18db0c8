// Child process of bench/scale/memory.ts: one compress pipeline (runPipeline) on one generated
// checkpoint, in a fresh process so its maxRSS is this run's alone. Prints one JSON line: peak RSS,
// wall seconds of the pipeline, the RSS after each finished layer (its slope is what depth costs),
// and the override store's state when the run returns (persisted layers in memory, reads so far).
import fs from 'node:fs';
import { openModel } from '../../src-main/engine/model/model';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';

export interface MemoryChildArgs {
  modelDir: string;
  workDir: string;
  method: string;
  params: Record<string, unknown>;
  /** whole-model target ratio; null = the step's own params decide */
  ratio: number | null;
  samples: number;
  seqLen: number;
  batch: number;
  vocab: number;
}

export interface MemoryChildResult {
  layers: number;
  peakRssMiB: number;
  pipelineSeconds: number;
  /** RSS (MiB) right after each layer was persisted */
  rssAfterLayerMiB: number[];
  /** live tensors right after each layer was persisted */
  tensorsAfterLayer: number[];
  residentAtEnd: number;
  achievedRatio: number;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]!) as MemoryChildArgs;
  await initBackend({ force: 'wasm' });
  const model = openModel(a.modelDir);
  const config = parsePipelineConfig({
    version: 2,
    name: `memory-${a.method}`,
    model: 'generated',
    calibration: { samples: a.samples, seqLen: a.seqLen, batch: a.batch },
    ...(a.ratio !== null ? { target: { ratio: a.ratio } } : {}),
    steps: [{ method: a.method, params: a.params }],
  });
  const calibration = Array.from({ length: a.samples }, (_, s) =>
    Array.from({ length: a.seqLen }, (_, i) => (i * 7919 + 13 + s * 101) % a.vocab),
  );
  const rss: number[] = [];
  const tensors: number[] = [];
  const t0 = performance.now();
  const r = await runPipeline({
    model,
    config,
    calibration,
    workDir: a.workDir,
    onLayer: () => {
      rss.push(Math.round(process.memoryUsage().rss / 2 ** 20));
      tensors.push(tf.memory().numTensors);
    },
  });
  const pipelineSeconds = (performance.now() - t0) / 1000;
  const out: MemoryChildResult = {
    layers: model.spec.layers,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    pipelineSeconds: Number(pipelineSeconds.toFixed(2)),
    rssAfterLayerMiB: rss,
    tensorsAfterLayer: tensors,
    residentAtEnd: r.overrides.residentCount,
    achievedRatio: r.achievedRatio,
  };
  disposeOverrides(r.overrides);
  model.checkpoint.close();
  fs.rmSync(a.workDir, { recursive: true, force: true });
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
