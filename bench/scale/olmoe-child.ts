// Child process of bench/scale/olmoe-svdllm.ts: one SVD-LLM run (runPipeline, keepRatio on every
// expert matrix) on the generated OLMoE-shaped checkpoint, in its own process so maxRSS is this run's.
// Prints one JSON line: per-(step, layer) seconds, the pipeline's phase timeline, per-expert seconds
// (each expert's start is its gate_proj read from the checkpoint, its end the next expert's read or
// the layer shell's router read), the CPU profile folded by function (inclusive and self seconds),
// and the peak RSS. The run stops early, saying so, once it passes `deadlineSeconds` or has finished
// `maxExperts` experts of one layer: compressing a layer is one synchronous call, so the check sits
// in the checkpoint read that starts the next expert.
import { Session } from 'node:inspector';
import path from 'node:path';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend } from '../../src-main/engine/tensor/backend';

export interface ChildArgs {
  modelDir: string;
  workDir: string;
  samples: number;
  seqLen: number;
  batch: number;
  keepRatio: number;
  deadlineSeconds: number;
  /** stop once this many experts of one layer are done (0 = no limit) */
  maxExperts: number;
}

export interface ProfileEntry {
  fn: string;
  file: string;
  seconds: number;
}

export interface ChildResult {
  complete: boolean;
  keepRatio: number;
  stoppedBecause: string | null;
  seconds: number;
  setupSeconds: number;
  peakRssMiB: number;
  threads: number;
  tokens: number;
  /** `${step}:${layer}` → seconds (onLayer: calibrate + compress + write) */
  layerSeconds: Record<string, number>;
  /** [seconds since start, phase, layer] at each progress report */
  timeline: [number, string, number | null][];
  /** per layer, seconds of each finished expert */
  expertSeconds: Record<string, number[]>;
  rank: number | null;
  achievedRatio: number | null;
  inclusive: ProfileEntry[];
  self: ProfileEntry[];
  profiledSeconds: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

const EXPERT_READ = /\.layers\.(\d+)\.mlp\.experts\.(\d+)\.gate_proj\.weight$/;
const ROUTER_READ = /\.layers\.(\d+)\.mlp\.gate\.weight$/;

/** Inclusive (each function once per sample's stack) and self seconds per function of our code. */
function fold(p: CpuProfile): { inclusive: ProfileEntry[]; self: ProfileEntry[]; total: number } {
  const parent = new Map<number, number>();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const file =
      f.url.includes('/work/') || f.url.startsWith('file:') ? path.basename(f.url) : f.url || '(native)';
    return `${f.functionName || '(anonymous)'}\t${file}`;
  };
  const inc = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1e6;
    total += dt;
    self.set(key(id), (self.get(key(id)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) seen.add(key(n));
    for (const k of seen) inc.set(k, (inc.get(k) ?? 0) + dt);
  });
  const list = (m: Map<string, number>, ours: boolean) =>
    [...m]
      .filter(([k]) => !ours || k.endsWith('.ts'))
      .sort((a, b) => b[1] - a[1])
      .map(([k, s]) => {
        const [fn, file] = k.split('\t') as [string, string];
        return { fn, file, seconds: Number(s.toFixed(2)) };
      });
  return { inclusive: list(inc, true), self: list(self, false).slice(0, 40), total };
}

export async function runChild(a: ChildArgs): Promise<ChildResult> {
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 5000 });
  session.post('Profiler.start');
  const backend = await initBackend({ force: 'wasm' });
  const model: LoadedModel = openModel(a.modelDir);
  const V = model.spec.vocab;
  // random token ids: no tokenizer ships with the generated checkpoint, and routing on random
  // weights does not depend on the text
  const calibration = Array.from({ length: a.samples }, (_, s) =>
    Array.from({ length: a.seqLen }, (_, t) => (s * 7919 + t * 104729 + 13) % V),
  );
  const config = parsePipelineConfig({
    version: 1,
    name: 'olmoe-svd-llm-scale',
    model: a.modelDir,
    calibration: { samples: a.samples, seqLen: a.seqLen, batch: a.batch },
    steps: [{ method: 'svd-llm', params: { keepRatio: a.keepRatio } }],
  });
  const out: ChildResult = {
    complete: false,
    keepRatio: a.keepRatio,
    stoppedBecause: null,
    seconds: 0,
    setupSeconds: now(),
    peakRssMiB: 0,
    threads: backend.threads,
    tokens: a.samples * a.seqLen,
    layerSeconds: {},
    timeline: [],
    expertSeconds: {},
    rank: null,
    achievedRatio: null,
    inclusive: [],
    self: [],
    profiledSeconds: 0,
  };
  const finish = () => {
    let prof: CpuProfile | null = null;
    session.post('Profiler.stop', (err, r) => {
      if (!err) prof = r.profile as CpuProfile;
    });
    session.disconnect();
    if (prof) {
      const f = fold(prof);
      out.inclusive = f.inclusive;
      out.self = f.self;
      out.profiledSeconds = Number(f.total.toFixed(1));
    }
    out.seconds = now();
    out.peakRssMiB = process.resourceUsage().maxRSS / 1024;
    return out;
  };

  // per-expert timing from the checkpoint reads that start and end each expert: an interval runs
  // from the first read of one expert to the first read of the next. With the whitening thread the
  // loop reads expert e+1 (to hand its Grams over) before it factorises e, and again for its own
  // turn, so intervals are the loop's iterations shifted by one: the same mean, no double count.
  let open: { layer: number; expert: number; t: number } | null = null;
  const close = (t: number) => {
    if (!open) return;
    const list = out.expertSeconds[open.layer] ?? [];
    list.push(t - open.t);
    out.expertSeconds[open.layer] = list;
    open = null;
  };
  const stop = (why: string): never => {
    out.stoppedBecause = why;
    process.stdout.write(`${JSON.stringify(finish())}\n`);
    process.exit(0);
  };
  // the forward passes (capture sweep, propagation) read every expert too: only the compress
  // phase's reads are the expert-by-expert loop
  let phase = '';
  const ck = model.checkpoint;
  const read = ck.readTensor.bind(ck);
  ck.readTensor = (name, opts) => {
    const m = phase === 'compress' ? EXPERT_READ.exec(name) : null;
    const seen = m !== null && open?.layer === Number(m[1]) && Number(m[2]) <= open.expert;
    if (m && !seen) {
      const t = now();
      close(t);
      const layer = Number(m[1]);
      const done = out.expertSeconds[layer]?.length ?? 0;
      if (a.maxExperts > 0 && done >= a.maxExperts)
        stop(`measured ${done} experts of layer ${layer} (MOE_SCALE_OLMOE_EXPERTS)`);
      if (t > a.deadlineSeconds)
        stop(`passed the ${a.deadlineSeconds} s deadline after ${done} experts of layer ${layer}`);
      open = { layer, expert: Number(m[2]), t };
    } else if (open && ROUTER_READ.exec(name)?.[1] === String(open.layer)) close(now());
    return read(name, opts);
  };

  const r = await runPipeline({
    model,
    config,
    calibration,
    workDir: a.workDir,
    onProgress: (p) => {
      phase = p.phase;
      out.timeline.push([Number(now().toFixed(2)), p.phase, p.layer]);
      if (now() > a.deadlineSeconds && p.phase !== 'done')
        stop(`passed the ${a.deadlineSeconds} s deadline at ${p.phase} of layer ${p.layer}`);
    },
    onLayer: (s, l, record, seconds) => {
      out.layerSeconds[`${s}:${l}`] = seconds;
      if (typeof record.rank === 'number') out.rank = record.rank;
    },
  });
  out.achievedRatio = r.achievedRatio;
  out.complete = true;
  disposeOverrides(r.overrides);
  model.checkpoint.close();
  return finish();
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('scale', 'olmoe-child.ts'))) {
  const a = JSON.parse(process.argv[2]!) as ChildArgs;
  process.stdout.write(`${JSON.stringify(await runChild(a))}\n`);
  process.exit(0);
}
