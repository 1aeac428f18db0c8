// inspect / eval ppl / logits through the CLI in-process; errors are one clear line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

let root: string;
let model: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-cli-'));
  model = path.join(root, 'qwen');
  writeTinyCheckpoint(model, { arch: 'qwen2_moe', layers: 2 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'moe-bench', ...args, '--home', root], {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

describe('engine CLI commands', () => {
  it('inspect --json counts parameters exactly from tensor shapes', async () => {
    const r = await cli('inspect', model, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({
      modelType: 'qwen2_moe',
      layers: 2,
      moeLayers: [0],
      denseLayers: [1],
      expertsPerLayer: 8,
      topK: 2,
      sharedExperts: 1,
      dtype: 'F32',
    });
    // experts: 8 × 3 × 64 × 32 in layer 0; active: 2 of them
    expect(s.params.experts).toBe(8 * 3 * 64 * 32);
    expect(s.params.activePerToken).toBe(s.params.total - 6 * 3 * 64 * 32);
    expect(s.bytesOnDisk).toBe(s.params.total * 4);
  });

  it('eval ppl --token-ids and logits agree with each other', async () => {
    const ids = Array.from({ length: 33 }, (_, i) => (i * 13) % 256);
    const idsFile = path.join(root, 'ids.json');
    fs.writeFileSync(idsFile, JSON.stringify({ ids }));
    const r = await cli('eval', 'ppl', '--model', model, '--token-ids', idsFile, '--seq-len', '33', '--json');
    expect(r.code).toBe(0);
    const ppl = JSON.parse(r.stdout);
    expect(Object.keys(ppl).sort()).toEqual([
      'backend',
      'nll',
      'peakRssBytes',
      'ppl',
      'seconds',
      'tokens',
      'tokensPerSecond',
      'windows',
    ]);
    expect([ppl.tokens, ppl.windows, ppl.backend]).toEqual([32, 1, 'wasm']);

    const out = path.join(root, 'logits.json');
    const l = await cli('logits', '--model', model, '--token-ids', idsFile, '--out', out, '--json');
    expect(l.code).toBe(0);
    const { shape, logits } = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      shape: number[];
      logits: number[];
    };
    expect(shape).toEqual([33, 272]);
    let nll = 0;
    for (let t = 0; t < 32; t++) {
      const row = logits.slice(t * 272, (t + 1) * 272);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      nll += lse - row[ids[t + 1]!]!;
    }
    expect(Math.abs(nll - ppl.nll) / nll).toBeLessThan(1e-5);
  });

  it('too few tokens for one window is an error that suggests --seq-len', async () => {
    const idsFile = path.join(root, 'short.json');
    fs.writeFileSync(idsFile, JSON.stringify({ ids: [1, 2, 3] }));
    const r = await cli('eval', 'ppl', '--model', model, '--token-ids', idsFile, '--seq-len', '64');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/only 3 tokens, fewer than one window of 64/);
    expect(r.stderr).toMatch(/--seq-len 3/);
  });

  it('a missing tensor is named with its file', async () => {
    const broken = path.join(root, 'broken');
    writeTinyCheckpoint(broken, { arch: 'qwen2_moe', layers: 2 });
    const cfg = JSON.parse(fs.readFileSync(path.join(broken, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(broken, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
    const r = await cli('inspect', broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model\.safetensors.*model\.layers\.2\..*missing/);
  });
});
