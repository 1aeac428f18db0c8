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
import { TINY_ARCHS, writeTinyCheckpoint } from '../support/tiny-checkpoints';

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

  for (const arch of TINY_ARCHS) {
    it(`${arch}: logits and perplexity match`, async () => {
      const dir = path.join(root, arch);
      writeTinyCheckpoint(dir, { arch, layers: 2, seed: 7 });
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
      console.log(`parity ${arch}: max |Δlogit| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-3);

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
