// Peak RSS against depth: one generated Mixtral-style checkpoint shape (bf16, hidden 512, 8 experts ×
// 1024, top-2; a layer is 50 MB in f32, so holding every finished layer would show up at once) at
// 2, 4, 8 and 16 layers, each compressed by the real runPipeline in a fresh child process
// (memory-child.ts) whose maxRSS is that run's alone. The goal: peak RSS at 16 layers ≤ 1.2× that at
// 4. The step is magnitude pruning at 50 % by default (its layers are written dense, the largest a
// finished layer gets, and it costs little per layer); MOE_SCALE_MEMORY_METHOD=svd|svd-llm runs a
// low-rank step at 40 % instead (slower: minutes per depth on 2 shared cores).
// The pre-flight part: the memory estimate of an SVD-LLM step on a sparse real-size Mixtral-8x7B
// checkpoint (tests/support/sparse-checkpoints.ts, headers only), computed exactly as the runner's
// pre-flight does (solveStep → statsBytes → estimateRunMemory → checkMemory on 24 GiB), with the
// calibration of tests/unit/memory-schedule.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svdLlmDeclaration } from '../../src-main/engine/methods/svd-llm.params';
import { openModel } from '../../src-main/engine/model/model';
import { checkMemory } from '../../src-main/engine/pipeline/memory-preflight';
import { preflightEstimate } from '../../tests/support/preflight-estimate';
import { MIXTRAL_8X7B, writeSparseCheckpoint } from '../../tests/support/sparse-checkpoints';
import { writeTinyCheckpoint } from '../../tests/support/tiny-checkpoints';
import { BENCH_MODEL_SHAPE } from '../bench-model-shape';
import type { MemoryChildArgs, MemoryChildResult } from './memory-child';

type Figures = Record<string, number | string>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(ROOT, 'bench/scale/memory-child.ts');
const GiB = 2 ** 30;
const DEPTHS = [2, 4, 8, 16];
const VOCAB = 4096;
const SHAPE = BENCH_MODEL_SHAPE;
const r3 = (x: number) => Number(x.toFixed(3));

function runChild(args: MemoryChildArgs): MemoryChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
    timeout: 1800 * 1000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line?.startsWith('{'))
    throw new Error(
      `memory child failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().slice(-400)}`,
    );
  return JSON.parse(line) as MemoryChildResult;
}

/**
 * The deepest checkpoint once; each shallower one is its config with fewer layers beside links to
 * the same weights (the loader reads only the layers the config names).
 */
function checkpoints(dir: string): Map<number, string> {
  const deepest = Math.max(...DEPTHS);
  const full = path.join(dir, `l${deepest}`);
  writeTinyCheckpoint(full, {
    arch: 'mixtral',
    dtype: 'BF16',
    layers: deepest,
    hidden: 512,
    vocab: VOCAB,
    seed: 3,
    overrides: SHAPE,
  });
  const out = new Map([[deepest, full]]);
  for (const d of DEPTHS.filter((x) => x !== deepest)) {
    const sub = path.join(dir, `l${d}`);
    fs.mkdirSync(sub);
    for (const f of fs.readdirSync(full))
      if (f !== 'config.json') fs.symlinkSync(path.join(full, f), path.join(sub, f));
    const config = JSON.parse(fs.readFileSync(path.join(full, 'config.json'), 'utf8'));
    fs.writeFileSync(
      path.join(sub, 'config.json'),
      JSON.stringify({ ...config, num_hidden_layers: d }, null, 2),
    );
    out.set(d, sub);
  }
  return out;
}

/** The runner's pre-flight for SVD-LLM at 20 % on Mixtral-8x7B shapes (as memory-schedule.test.ts). */
function mixtralPreflight(dir: string): Figures {
  const ckpt = path.join(dir, 'mixtral-8x7b');
  writeSparseCheckpoint(ckpt, MIXTRAL_8X7B);
  const model = openModel(ckpt);
  try {
    const { est } = preflightEstimate(model, svdLlmDeclaration, {});
    let accepted = 'yes';
    try {
      checkMemory(est, 24 * GiB);
    } catch {
      accepted = 'no';
    }
    return { mixtralPreflightGiB: r3(est.totalBytes / GiB), mixtralPreflightAccepted: accepted };
  } finally {
    model.checkpoint.close();
  }
}

export async function memoryScale(): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'moe-scale-memory-'));
  const method = process.env.MOE_SCALE_MEMORY_METHOD ?? 'magnitude';
  const lowRank = method !== 'magnitude';
  try {
    const figs: Figures = {
      ...mixtralPreflight(dir),
      model: 'mixtral-like bf16, hidden 512, 8 experts × 1024 top-2 (50 MB f32 per layer), vocab 4096',
      step: lowRank ? `${method} at 40 %` : 'magnitude 50 % unstructured',
      calibration: '4 × 64 tokens, batch 2',
    };
    const t0 = performance.now();
    const models = checkpoints(dir);
    figs.generateSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
    const peak = new Map<number, number>();
    for (const d of DEPTHS) {
      const r = runChild({
        modelDir: models.get(d)!,
        workDir: path.join(dir, `work-${d}`),
        method,
        params: lowRank ? {} : { sparsity: 0.5, pattern: 'unstructured' },
        ratio: lowRank ? 0.4 : null,
        samples: 4,
        seqLen: 64,
        batch: 2,
        vocab: VOCAB,
      });
      peak.set(d, r.peakRssMiB);
      figs[`rssGiB${d}`] = r3(r.peakRssMiB / 1024);
      // what the deepest run shows per layer: RSS after each finished layer, live tensors (constant)
      if (d === Math.max(...DEPTHS)) {
        figs.secondsPerLayer = Number((r.pipelineSeconds / d).toFixed(2));
        const rss = r.rssAfterLayerMiB;
        figs.rssAfterLayersMiB = `${Math.min(...rss)}–${Math.max(...rss)} (first ${rss[0]}, last ${rss[rss.length - 1]})`;
        figs.tensorsAfterLayers = `${Math.min(...r.tensorsAfterLayer)}–${Math.max(...r.tensorsAfterLayer)}`;
        figs.residentLayersAtEnd = r.residentAtEnd;
      }
    }
    figs.rss16over4 = r3(peak.get(16)! / peak.get(4)!);
    figs.rss16over2 = r3(peak.get(16)! / peak.get(2)!);
    return figs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// run alone: `npx tsx bench/scale/memory.ts`
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  memoryScale().then((f) => console.log(JSON.stringify(f, null, 2)));
