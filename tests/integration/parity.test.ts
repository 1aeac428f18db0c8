// Engine vs the numpy port of the HF modeling code (tests/reference/hf_moe_reference.py), all six
// architectures on tiny f32 checkpoints: logits to 1e-3 max abs, perplexity to 1e-4 relative.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { perplexity } from '../../src-main/engine/eval/perplexity';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { openModel } from '../../src-main/engine/model/model';
import { initBackend } from '../../src-main/engine/tensor/backend';
import { TINY_ARCHS, type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const REF = path.resolve('tests/reference/hf_moe_reference.py');
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn('SKIPPING parity tests: python3 with numpy is not available');

function ids(n: number, vocab: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.skipIf(!hasNumpy)('parity with the HF reference', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend();
    root = mkdtempSync(path.join(tmpdir(), 'parity-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const variants: { name: string; arch: TinyArch; layers: number; overrides?: Record<string, unknown> }[] = [
    ...TINY_ARCHS.map((arch) => ({ name: arch, arch, layers: 2 })),
    // Qwen2 v5 sliding rule (even layers below max_window_layers) with a window shorter than the sequence
    {
      name: 'qwen2_moe+sliding',
      arch: 'qwen2_moe',
      layers: 2,
      overrides: { use_sliding_window: true, sliding_window: 8 },
    },
    // DeepSeek renormalised top-k (sum + 1e-20), MoE every 2nd layer after one dense layer
    {
      name: 'deepseek+norm+freq',
      arch: 'deepseek',
      layers: 4,
      overrides: { norm_topk_prob: true, moe_layer_freq: 2 },
    },
    // Mixtral with tied embeddings and no sliding window, transformers v5 rope_parameters
    {
      name: 'mixtral+v5rope',
      arch: 'mixtral',
      layers: 2,
      overrides: {
        sliding_window: null,
        rope_theta: 1,
        rope_parameters: { rope_type: 'default', rope_theta: 5000 },
      },
    },
  ];
  for (const { name, arch, layers, overrides } of variants) {
    it(`${name}: logits and perplexity match`, async () => {
      const dir = path.join(root, name);
      writeTinyCheckpoint(dir, { arch, layers, seed: 7, ...(overrides ? { overrides } : {}) });
      const model = openModel(dir);
      const seq = ids(40, model.spec.vocab, 11);
      const idsFile = path.join(dir, 'ids.json');
      writeFileSync(idsFile, JSON.stringify({ ids: seq }));
      const outFile = path.join(dir, 'ref.json');
      execFileSync('python3', [REF, 'logits', '--model', dir, '--ids', idsFile, '--out', outFile]);
      const ref = JSON.parse(readFileSync(outFile, 'utf8')) as { shape: number[]; logits: number[] };
      const ours = await sequenceLogits(model, seq);
      expect(ref.shape).toEqual([seq.length, model.spec.vocab]);
      const d = maxAbsDiff(ours, ref.logits);
      console.log(`parity ${name}: max |Δlogit| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-3);

      // Router hook: same experts (as sets) and weights per token as the reference, first MoE layer
      const layer = model.spec.layerKinds.indexOf('moe');
      const route = JSON.parse(
        execFileSync('python3', [
          REF,
          'route',
          '--model',
          dir,
          '--ids',
          idsFile,
          '--layer',
          String(layer),
        ]).toString(),
      ) as { experts: number[][]; weights: number[][] };
      const seen: { experts: number[]; weights: number[] }[] = [];
      const k = model.spec.routing.topK;
      await sequenceLogits(model, seq, {
        observer: {
          onRouter: (e) => {
            if (e.layer !== layer) return;
            for (let t = 0; t < e.experts.length / k; t++) {
              seen.push({
                experts: Array.from(e.experts.slice(t * k, (t + 1) * k)),
                weights: Array.from(e.weights.slice(t * k, (t + 1) * k)),
              });
            }
          },
        },
      });
      expect(seen.length).toBe(seq.length);
      seen.forEach((s, t) => {
        const order = (ex: number[], w: number[]) =>
          ex.map((e, i) => [e, w[i]!] as const).sort((a, b) => a[0] - b[0]);
        const a = order(s.experts, s.weights);
        const b = order(route.experts[t]!, route.weights[t]!);
        expect(a.map((p) => p[0])).toEqual(b.map((p) => p[0]));
        for (let i = 0; i < k; i++) expect(Math.abs(a[i]![1] - b[i]![1])).toBeLessThan(1e-5);
      });

      const long = ids(3 * 24 + 5, model.spec.vocab, 3);
      writeFileSync(idsFile, JSON.stringify({ ids: long }));
      const refPpl = JSON.parse(
        execFileSync('python3', [REF, 'ppl', '--model', dir, '--ids', idsFile, '--seq-len', '24']).toString(),
      ) as { ppl: number; nll: number; tokens: number; windows: number };
      const r = await perplexity(model, long, { seqLen: 24, batch: 2 });
      expect(r.windows).toBe(refPpl.windows);
      expect(r.tokens).toBe(refPpl.tokens);
      expect(Math.abs(r.ppl - refPpl.ppl) / refPpl.ppl).toBeLessThan(1e-4);
      model.checkpoint.close();
    }, 120_000);
  }
});
