// SVD-LLM at OLMoE-1B-7B layer shapes: the generated 2-layer checkpoint (olmoe-checkpoint.ts, random
// bf16, ~2 GB) compressed by the real runPipeline at keepRatio 0.6 (40 % of every expert matrix's
// parameters removed, rank 409 of the 682 break-even) in a child process, so its maxRSS is the run's
// alone. Calibration: random token ids (no tokenizer ships with random weights), MOE_SCALE_OLMOE_SAMPLES
// × MOE_SCALE_OLMOE_SEQ. Extrapolation to the real model's 16 layers: fixed costs (process start,
// backend, embedding) + 16 × the mean per-layer wall time (capture sweep, 64 experts, write, propagation).
// When the run does not finish within MOE_SCALE_OLMOE_MINUTES (or MOE_SCALE_OLMOE_EXPERTS experts of a
// layer are done) it stops there and the layer time is extrapolated from the per-expert times
// measured so far; `mode` says which. The per-phase profile is the child's CPU profile folded by function
// (MOE_SCALE_OLMOE_RAW=<file> keeps the child's whole answer).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OLMOE_SPEC, olmoeCheckpoint } from './olmoe-checkpoint';
import type { ChildArgs, ChildResult, ProfileEntry } from './olmoe-child';

type Figures = Record<string, number | string>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(ROOT, 'bench/scale/olmoe-child.ts');
const REAL_LAYERS = 16;
const GiB = 2 ** 30;

const envNum = (k: string, d: number) => {
  const v = process.env[k];
  return v === undefined || v === '' ? d : Number(v);
};

/** Where the compress time goes: inclusive seconds of the engine functions that are its phases. */
const PHASES: [figure: string, fn: string, file: string][] = [
  ['readExpert', 'readExpert', 'layer-weights.ts'],
  ['gramInput', 'routedInputStatistics', 'routed-statistics.ts'],
  ['gramIntermediate', 'routedIntermediateStatistics', 'routed-statistics.ts'],
  ['whitening', 'whiteningScale', 'scaling.ts'],
  ['cholesky', 'choleskyRepaired', 'pd-repair.ts'],
  ['choleskyAttempts', 'tryCholesky', 'cholesky.ts'],
  ['minEigenvalue', 'estimateMinEigenvalue', 'eigh.ts'],
  ['inverse', 'invertLowerWithRetry', 'triangular.ts'],
  ['svd', 'svdTruncated', 'svd-truncated.ts'],
  ['scaleWS', 'scaled', 'factorize.ts'],
  ['scaleBSinv', 'applyInverse', 'factorize.ts'],
  ['factorize', 'factorizeLowRank', 'factorize.ts'],
  ['factorTensors', 'toExperts', 'expert-source.ts'],
  ['write', 'persistLayer', 'work-files.ts'],
  ['layerForward', 'runLayer', 'executor.ts'],
];

const r2 = (x: number, d = 2) => Number(x.toFixed(d));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function runChild(args: ChildArgs): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    // the child stops itself at the deadline; this only catches a hung one
    timeout: (args.deadlineSeconds + 1800) * 1000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line?.startsWith('{'))
    throw new Error(
      `olmoe child failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().slice(-400)}`,
    );
  return JSON.parse(line) as ChildResult;
}

/** Per layer: [capture start, compress start, next layer's (or done) start] from the timeline. */
function layerWalls(
  c: ChildResult,
): { layer: number; capture: number; compress: number; rest: number | null }[] {
  const out: { layer: number; capture: number; compress: number; rest: number | null }[] = [];
  const at = (phase: string, l: number | null) => c.timeline.find(([, p, x]) => p === phase && x === l)?.[0];
  for (let l = 0; ; l++) {
    const cal = at('calibrate', l);
    const comp = at('compress', l);
    if (cal === undefined || comp === undefined) break;
    const next = at('calibrate', l + 1) ?? at('done', null);
    // compress runs to the layer's onLayer; write + propagation follow until the next layer starts
    const compressEnd = c.layerSeconds[`0:${l}`] !== undefined ? cal + c.layerSeconds[`0:${l}`]! : null;
    out.push({
      layer: l,
      capture: comp - cal,
      compress: compressEnd !== null ? compressEnd - comp : Number.NaN,
      rest: next !== undefined && compressEnd !== null ? next - compressEnd : null,
    });
  }
  return out;
}

/** Where the time went; the per-expert phases also divided by the experts finished. */
function profileFigures(c: ChildResult, figs: Figures, experts: number): void {
  const find = (fn: string, file: string) =>
    c.inclusive.find((e) => e.fn === fn && e.file === file)?.seconds ?? 0;
  for (const [k, fn, file] of PHASES) {
    const s = find(fn, file);
    figs[`profile.${k}Seconds`] = s;
    if (experts > 0 && !['write', 'layerForward', 'factorTensors'].includes(k))
      figs[`perExpert.${k}Seconds`] = r2(s / experts);
  }
  figs['profile.sampledSeconds'] = c.profiledSeconds;
  const top = (xs: ProfileEntry[], n: number) =>
    xs
      .slice(0, n)
      .map((e) => `${e.fn}@${e.file} ${e.seconds}s`)
      .join('; ');
  figs['profile.topSelf'] = top(c.self, 12);
  figs['profile.topInclusive'] = top(c.inclusive, 25);
}

/** The figures of one child run (exported so a driver can summarise a run on another checkpoint). */
export function svdLlmFigures(
  c: ChildResult,
  spec: { hidden: number; intermediate: number; experts: number },
): Figures {
  const figs: Figures = {};
  figs.threads = c.threads;
  figs.peakRssGiB = r2(c.peakRssMiB / 1024, 3);
  figs.childSeconds = r2(c.seconds, 1);
  figs.setupSeconds = r2(c.setupSeconds, 1);
  if (c.rank !== null) figs.rank = c.rank;
  if (c.achievedRatio !== null) figs.achievedRatio = r2(c.achievedRatio, 4);
  const walls = layerWalls(c);
  for (const w of walls) {
    figs[`layer${w.layer}.captureSeconds`] = r2(w.capture, 1);
    if (Number.isFinite(w.compress)) figs[`layer${w.layer}.compressSeconds`] = r2(w.compress, 1);
    if (w.rest !== null) figs[`layer${w.layer}.writeAndPropagateSeconds`] = r2(w.rest, 1);
  }
  const perExpert = Object.values(c.expertSeconds).flat();
  // a layer's first interval is the pipeline's fill (with the whitening thread it holds only expert
  // 0's Grams, see olmoe-child.ts): the mean is over the rest, the steady state
  const lists = Object.values(c.expertSeconds);
  const steady = lists.flatMap((l) => (l.length > 1 ? l.slice(1) : l));
  if (perExpert.length > 0) {
    figs.expertsMeasured = perExpert.length;
    figs.secondsPerExpert = r2(mean(steady));
    figs.secondsFirstExpert = r2(perExpert[0]!);
    figs.secondsPerExpertNote =
      'mean over each layer’s experts after its first (the first interval is the pipeline fill)';
  }
  if (c.complete) {
    const layerSecs = walls.map((w) => w.capture + w.compress + (w.rest ?? 0));
    const perLayer = mean(layerSecs);
    const fixed = c.seconds - layerSecs.reduce((a, b) => a + b, 0);
    figs.mode = `complete: all ${walls.length} layers measured`;
    figs.secondsPerLayer = r2(perLayer, 1);
    figs.onLayerSecondsMean = r2(mean(Object.values(c.layerSeconds)), 1);
    figs.fixedSeconds = r2(fixed, 1);
    figs.extrapolated16LayersHours = r2((fixed + REAL_LAYERS * perLayer) / 3600, 3);
  } else {
    // a layer = its capture sweep + every expert at the measured mean + the propagation, which is the
    // same forward over the same batches as the capture (taken equal to it); the write is not measured
    const capture = walls[0]?.capture ?? Number.NaN;
    const perLayer = capture + spec.experts * mean(steady) + capture;
    figs.mode = `partial, extrapolated: ${c.stoppedBecause}; layer = capture + ${spec.experts} × mean expert + propagation (≈ capture), write not measured`;
    figs.secondsPerLayer = r2(perLayer, 1);
    figs.fixedSeconds = r2(c.setupSeconds, 1);
    figs.extrapolated16LayersHours = r2((c.setupSeconds + REAL_LAYERS * perLayer) / 3600, 3);
    // what the rest of the layer adds: the host f32 factors of the experts not yet done (rank from
    // keepRatio, as the knob solves it), each held until the layer's view is built
    const rank = Math.floor(
      (c.keepRatio * spec.hidden * spec.intermediate) / (spec.hidden + spec.intermediate),
    );
    const factorBytes = 3 * rank * (spec.hidden + spec.intermediate) * 4;
    figs.factorMiBPerExpert = r2(factorBytes / 2 ** 20, 1);
    figs.peakRssGiBExtrapolated = r2(
      (c.peakRssMiB * 2 ** 20 + (spec.experts - perExpert.length) * factorBytes) / GiB,
      3,
    );
    figs.peakRssNote = `peakRssGiB is the partial run's (${perExpert.length} experts of one layer); peakRssGiBExtrapolated adds the factors of the other experts`;
  }
  profileFigures(c, figs, perExpert.length);
  return figs;
}

export async function olmoeSvdLlmScale(): Promise<Figures> {
  const ck = olmoeCheckpoint();
  const samples = envNum('MOE_SCALE_OLMOE_SAMPLES', 32);
  const seqLen = envNum('MOE_SCALE_OLMOE_SEQ', 256);
  const keepRatio = envNum('MOE_SCALE_OLMOE_KEEP', 0.6);
  const minutes = envNum('MOE_SCALE_OLMOE_MINUTES', 15);
  const maxExperts = envNum('MOE_SCALE_OLMOE_EXPERTS', 0);
  const workDir = fs.mkdtempSync(path.join(tmpdir(), 'scale-olmoe-run-'));
  const figs: Figures = {
    model: 'OLMoE-1B-7B layer shapes, 2 layers, random bf16 N(0, 0.02²), norms 1 (generated)',
    checkpointGiB: r2(ck.bytes / GiB, 3),
    checkpointGenerationSeconds: ck.generatedSeconds === null ? 'cached' : r2(ck.generatedSeconds, 1),
    calibration: `random token ids, ${samples} × ${seqLen}`,
    calibrationTokens: samples * seqLen,
    // each token goes to exactly top-k experts: below the Gram's dimension every Gram is singular
    meanRoutedTokensPerExpert: (samples * seqLen * OLMOE_SPEC.topK) / OLMOE_SPEC.experts,
    keepRatio,
  };
  try {
    const c = runChild({
      modelDir: ck.dir,
      workDir,
      samples,
      seqLen,
      batch: Math.min(8, samples),
      keepRatio,
      deadlineSeconds: minutes * 60,
      maxExperts,
    });
    // the child's whole answer (timeline, per-expert seconds, folded profile) for a closer look
    if (process.env.MOE_SCALE_OLMOE_RAW)
      fs.writeFileSync(process.env.MOE_SCALE_OLMOE_RAW, JSON.stringify(c, null, 1));
    const { hidden, moeIntermediate, experts } = OLMOE_SPEC;
    return { ...figs, ...svdLlmFigures(c, { hidden, intermediate: moeIntermediate, experts }) };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
