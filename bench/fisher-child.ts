// Child process of bench/fisher.bench.ts: one empirical-Fisher pass (layer-streamed backward) on a
// model folder, printing its time and the process's peak RSS as JSON. Arguments:
//   <model-dir> <samples> <seq-len> [calib]   — `calib`: the pipeline's calibration sampler on the
//   built-in calib text (seed 3), else deterministic token ids.
import { expertFisher } from '../src-main/engine/grad/fisher';
import { openModel } from '../src-main/engine/model/model';
import { calibrationTokens } from '../src-main/engine/pipeline/calibration-data';
import { initBackend } from '../src-main/engine/tensor/backend';

const [dir, samplesArg, seqArg, mode] = process.argv.slice(2);
const samples = Number(samplesArg);
const seqLen = Number(seqArg);
const rssMiB = () => process.resourceUsage().maxRSS / 1024;

await initBackend();
const model = openModel(dir!);
const sequences =
  mode === 'calib'
    ? (await calibrationTokens(dir!, { dataset: 'calib', samples, seqLen, seed: 3, batch: 4 } as never))
        .sequences
    : Array.from({ length: samples }, (_, s) =>
        Array.from({ length: seqLen }, (_, t) => (s * 7919 + t * 104729 + 13) % model.spec.vocab),
      );
const before = rssMiB();
let fisherBytes = 0;
const t0 = performance.now();
const r = await expertFisher({
  model,
  sequences,
  batch: 4,
  onLayer: (_l, f) => {
    for (const e of f)
      if (e) fisherBytes += e.gate.data.byteLength + e.up.data.byteLength + e.down.data.byteLength;
    // the consumer (d2-moe) writes each layer to disk and drops it: collect it, so RSS shows what is held
    (globalThis as { gc?: () => void }).gc?.();
  },
});
const seconds = (performance.now() - t0) / 1000;
model.checkpoint.close();
process.stdout.write(
  `${JSON.stringify({
    seconds,
    forwardSeconds: r.forwardSeconds,
    backwardSeconds: r.backwardSeconds,
    loss: r.loss,
    rssBeforeMiB: before,
    peakRssMiB: rssMiB(),
    boundaryMiB: r.boundaryMemoryBytes / 2 ** 20,
    fisherMiB: fisherBytes / 2 ** 20,
    tokens: sequences.reduce((a, s) => a + s.length, 0),
  })}\n`,
);
