// Low-rank family: perplexity at 20/40/60% whole-model ratio for svd / asvd / svd-llm / moe-svd and
// the forward speed (tokens/s of the perplexity pass) of each compressed model vs the original.
// Model: $LOWRANK_BENCH_MODEL, else resources/models/tiny-mixtral when its weights exist, else a
// generated (random-weight) 8-layer Mixtral with 8 experts (ppl then only shows relative damage).
// Calibration: C4 train text (SVD-LLM sampler); evaluation: WikiText-2 test, never the same text.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { perplexity } from '../src-main/engine/eval/perplexity';
import {
  defaultDataDirs,
  joinForPerplexity,
  loadDatasetRows,
  resolveDataset,
} from '../src-main/engine/io/datasets';
import { loadTokenizer } from '../src-main/engine/io/tokenizer';
import { openModel } from '../src-main/engine/model/model';
import { calibrationTokens } from '../src-main/engine/pipeline/calibration-data';
import { parsePipelineConfig } from '../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../src-main/engine/pipeline/runner';
import { initBackend } from '../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../tests/support/tiny-checkpoints';

const SEQ = Number(process.env.LOWRANK_BENCH_SEQ ?? 128);
const WINDOWS = Number(process.env.LOWRANK_BENCH_WINDOWS ?? 8);
const METHODS = (process.env.LOWRANK_BENCH_METHODS ?? 'svd,asvd,svd-llm,moe-svd').split(',');
const RATIOS = (process.env.LOWRANK_BENCH_RATIOS ?? '0.2,0.4,0.6').split(',').map(Number);

function pickModel(tmp: string): { dir: string; label: string } {
  if (process.env.LOWRANK_BENCH_MODEL)
    return { dir: process.env.LOWRANK_BENCH_MODEL, label: path.basename(process.env.LOWRANK_BENCH_MODEL) };
  const embedded = path.resolve('resources/models/tiny-mixtral');
  if (
    fs.existsSync(path.join(embedded, 'config.json')) &&
    fs.existsSync(path.join(embedded, 'model.safetensors'))
  ) {
    // a private copy: the embedded folder may be rewritten (training checkpoints) while we read it
    const dir = path.join(tmp, 'tiny-mixtral');
    fs.cpSync(embedded, dir, { recursive: true });
    return { dir, label: 'tiny-mixtral (trained, embedded)' };
  }
  const dir = path.join(tmp, 'mixtral');
  writeTinyCheckpoint(dir, {
    arch: 'mixtral',
    layers: 8,
    hidden: 128,
    seed: 17,
    overrides: { num_local_experts: 8, intermediate_size: 256, sliding_window: null },
  });
  return { dir, label: 'generated mixtral 8L h128 I256 8x top-2 (random weights)' };
}

function variantParams(variant: string | undefined): Record<string, unknown> {
  if (!variant) return {};
  if (!variant.includes('=')) return { uFit: variant };
  const [k, v] = variant.split('=') as [string, string];
  return { [k]: v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v) };
}

export async function run(): Promise<Record<string, number | string>> {
  await initBackend();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lowrank-bench-'));
  const out: Record<string, number | string> = {};
  try {
    const { dir, label } = pickModel(tmp);
    out.model = label;
    const model = openModel(dir);
    const tok = await loadTokenizer(dir);
    const ids = tok.encode(
      joinForPerplexity(await loadDatasetRows(resolveDataset('wikitext2', { dataDirs: defaultDataDirs() }))),
    );
    const calText = path.resolve('..', 'shared', 'data', 'train-text', 'c4', 'c4-train.txt');
    const calCfg = { dataset: 'calib', text: calText, samples: 16, seqLen: SEQ, seed: 3, batch: 8 };
    const cal = await calibrationTokens(dir, calCfg);
    await perplexity(model, ids, { seqLen: SEQ, maxWindows: 2 }); // warm-up: wasm kernels, page cache
    const base = await perplexity(model, ids, { seqLen: SEQ, maxWindows: WINDOWS });
    out['dense.ppl'] = Number(base.ppl.toFixed(3));
    out['dense.tokPerS'] = Number(base.tokensPerSecond.toFixed(0));
    for (const method of METHODS) {
      for (const ratio of RATIOS) {
        // `moe-svd+projection`: MoE-SVD with the least-squares fit; `moe-svd+protectEdges=false` etc.
        const [id, variant] = method.split('+');
        const config = parsePipelineConfig({
          version: 1,
          name: `${method}-${ratio}`,
          model: dir,
          calibration: calCfg,
          target: { ratio },
          steps: [{ method: id, params: variantParams(variant) }],
        });
        const r = await runPipeline({
          model,
          config,
          calibration: cal.sequences,
          workDir: path.join(tmp, `${method}-${ratio}`),
        });
        const p = await perplexity(model, ids, { seqLen: SEQ, maxWindows: WINDOWS, overrides: r.overrides });
        // forward speed: dense and compressed passes alternated, best of 3 each (the machine is shared)
        let dense = 0;
        let comp = 0;
        for (let i = 0; i < 3; i++) {
          dense = Math.max(
            dense,
            (await perplexity(model, ids, { seqLen: SEQ, maxWindows: 4 })).tokensPerSecond,
          );
          comp = Math.max(
            comp,
            (await perplexity(model, ids, { seqLen: SEQ, maxWindows: 4, overrides: r.overrides }))
              .tokensPerSecond,
          );
        }
        const k = `${method}@${ratio}`;
        out[`${k}.achieved`] = Number(r.achievedRatio.toFixed(4));
        out[`${k}.rank`] = JSON.stringify(r.plan.planned.map((p) => p.knobs));
        out[`${k}.ppl`] = Number(p.ppl.toFixed(3));
        out[`${k}.tokPerS`] = Number(comp.toFixed(0));
        out[`${k}.denseTokPerS`] = Number(dense.toFixed(0));
        out[`${k}.speedup`] = Number((comp / dense).toFixed(2));
        out[`${k}.compressSeconds`] = Number(r.seconds.toFixed(1));
        disposeOverrides(r.overrides);
        process.stderr.write(
          `[lowrank] ${k}: ppl ${p.ppl.toFixed(3)} (dense ${base.ppl.toFixed(3)}), ${comp.toFixed(0)} vs ${dense.toFixed(0)} tok/s\n`,
        );
      }
    }
    model.checkpoint.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
