// `moe-bench tokenize` end to end in a child process: ids equal the in-process tokenizer's
// encoding of the "\n\n"-joined rows, BOS included.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { joinForPerplexity } from '../../src-main/engine/io/datasets';
import { loadTokenizer } from '../../src-main/engine/io/tokenizer';
import { tempDir, writeFile } from './io-helpers';

const BIN = path.resolve(__dirname, '../../bin/moe-bench.mjs');
const MODEL = path.resolve(__dirname, '../fixtures/io/tiny-bpe');
const dir = tempDir('moe-tokcli-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, '--home', path.join(dir, 'home'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('moe-bench tokenize', () => {
  it('--dataset: writes {"ids": [...]} of the joined rows and prints {tokens, out} with --json', async () => {
    const rows = ['hello world', '', 'the world\n'];
    const data = writeFile(dir, 'rows.jsonl', rows.map((text) => JSON.stringify({ text })).join('\n'));
    const out = path.join(dir, 'out', 'ids.json');
    const r = cli('--json', 'tokenize', '--model', MODEL, '--dataset', data, '--out', out);
    expect(r.stderr).toMatch(/3 rows/);
    expect(r.status).toBe(0);
    const expected = (await loadTokenizer(MODEL)).encode(joinForPerplexity(rows));
    expect(expected[0]).toBe(268); // BOS, once, at the start
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual({ ids: expected });
    expect(JSON.parse(r.stdout)).toEqual({ tokens: expected.length, out });
  });

  it('--text: the file is tokenized as one string', async () => {
    const text = 'hello\n\nworld';
    const file = writeFile(dir, 'in.txt', text);
    const out = path.join(dir, 'ids2.json');
    const r = cli('tokenize', '--model', MODEL, '--text', file, '--out', out);
    expect(r.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).ids).toEqual((await loadTokenizer(MODEL)).encode(text));
  });

  it('usage and input errors exit non-zero with one clear line', () => {
    const both = cli(
      'tokenize',
      '--model',
      MODEL,
      '--text',
      'a',
      '--dataset',
      'ptb',
      '--out',
      path.join(dir, 'x.json'),
    );
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --text FILE or --dataset NAME/);
    const noTok = cli('tokenize', '--model', dir, '--text', 'a', '--out', path.join(dir, 'x.json'));
    expect(noTok.status).toBe(1);
    expect(noTok.stderr).toContain(`${dir}: no tokenizer.json in the model folder`);
  });
});
