// Layer-streamed backward (engine/grad) memory and speed: peak RSS of one empirical-Fisher pass on a
// generated 2-layer vs 8-layer Mixtral of the same width (each in its own child process, so RSS is
// clean) — streaming holds one layer + the boundary activations, so the 8-layer peak should exceed
// the 2-layer one by little more than the extra boundaries, not by 4× the weights — and the Fisher
// pass on the embedded tiny-mixtral with the d2-moe-40 pipeline's calibration (32 × 256). Measurements only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyCheckpoint } from '../tests/support/tiny-checkpoints';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = path.join(ROOT, 'bench/fisher-child.ts');
const HIDDEN = 256;
const SHAPE = {
  num_attention_heads: 8,
  num_key_value_heads: 2,
  intermediate_size: 512,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  sliding_window: null,
};

interface Child {
  seconds: number;
  forwardSeconds: number;
  backwardSeconds: number;
  peakRssMiB: number;
  rssBeforeMiB: number;
  boundaryMiB: number;
  fisherMiB: number;
  tokens: number;
}

function child(dir: string, samples: number, seqLen: number, mode = ''): Child {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', CHILD, dir, String(samples), String(seqLen), mode],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return JSON.parse(out.toString().trim().split('\n').pop()!) as Child;
}

export async function run(): Promise<Record<string, number | string>> {
  const root = fs.mkdtempSync(path.join(tmpdir(), 'fisher-bench-'));
  try {
    const m2 = path.join(root, 'l2');
    const m8 = path.join(root, 'l8');
    for (const [d, layers] of [
      [m2, 2],
      [m8, 8],
    ] as const)
      writeTinyCheckpoint(d, {
        arch: 'mixtral',
        dtype: 'BF16',
        layers,
        hidden: HIDDEN,
        vocab: 4096,
        seed: 1,
        overrides: SHAPE,
      });
    const c2 = child(m2, 8, 128);
    const c8 = child(m8, 8, 128);
    const out: Record<string, number | string> = {
      model: `generated mixtral bf16, hidden ${HIDDEN}, 8 experts top-2, I=${SHAPE.intermediate_size}, vocab 4096; 8 × 128 tokens`,
      peakRssMiB2L: Math.round(c2.peakRssMiB),
      peakRssMiB8L: Math.round(c8.peakRssMiB),
      rssRatio8vs2: Number((c8.peakRssMiB / c2.peakRssMiB).toFixed(3)),
      rssGrowthMiB2to8L: Math.round(c8.peakRssMiB - c2.peakRssMiB),
      rssBeforeMiB2L: Math.round(c2.rssBeforeMiB),
      rssBeforeMiB8L: Math.round(c8.rssBeforeMiB),
      weightsMiBPerLayer: Number(((4 * 8 * 3 * HIDDEN * SHAPE.intermediate_size) / 2 ** 20).toFixed(1)),
      boundaryMiB8L: Number(c8.boundaryMiB.toFixed(1)),
      fisherSeconds2L: Number(c2.seconds.toFixed(2)),
      fisherSeconds8L: Number(c8.seconds.toFixed(2)),
    };
    const tiny = path.join(ROOT, 'resources/models/tiny-mixtral');
    if (fs.existsSync(path.join(tiny, 'model.safetensors'))) {
      const t = child(tiny, 32, 256, 'calib');
      Object.assign(out, {
        tinyMixtralFisherSeconds: Number(t.seconds.toFixed(2)),
        tinyMixtralForwardSeconds: Number(t.forwardSeconds.toFixed(2)),
        tinyMixtralBackwardSeconds: Number(t.backwardSeconds.toFixed(2)),
        tinyMixtralTokensPerSecond: Math.round(t.tokens / t.seconds),
        tinyMixtralPeakRssMiB: Math.round(t.peakRssMiB),
        tinyMixtralRssBeforeMiB: Math.round(t.rssBeforeMiB),
      });
    }
    return out;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
