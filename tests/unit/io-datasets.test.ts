import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultDataDirs,
  joinForPerplexity,
  loadDatasetRows,
  resolveDataset,
} from '../../src-main/engine/io/datasets';
import { tempDir, writeFile } from './io-helpers';

const SHARED = path.resolve(__dirname, '../../../shared/data');
const hasShared = fs.existsSync(path.join(SHARED, 'wikitext2_raw/wiki.test.raw'));
const dir = tempDir('moe-ds-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('row rules on small files', () => {
  it('.txt: one row per line, \\r\\n and \\r handled, empty lines kept, final break adds none', async () => {
    const f = writeFile(dir, 'a.txt', 'one\r\ntwo\n\nthree\rfour\n');
    expect(await loadDatasetRows(resolveDataset(f))).toEqual(['one', 'two', '', 'three', 'four']);
  });

  it('.jsonl and .jsonl.gz: the text field, blank lines skipped', async () => {
    const body = '{"text": "a\\nb", "id": 1}\n\n{"text": ""}\n{"text": "c"}';
    const f = writeFile(dir, 'a.jsonl', body);
    expect(await loadDatasetRows(resolveDataset(f))).toEqual(['a\nb', '', 'c']);
    const g = writeFile(dir, 'a.jsonl.gz', zlib.gzipSync(body));
    expect(await loadDatasetRows(resolveDataset(g))).toEqual(['a\nb', '', 'c']);
  });

  it('joinForPerplexity joins with a blank line', () => {
    expect(joinForPerplexity(['', ' = A = \n', '', 'x\n'])).toBe('\n\n = A = \n\n\n\n\nx\n');
  });

  it('built-ins resolve through the given data dirs, first match wins', async () => {
    const d1 = path.join(dir, 'd1');
    const d2 = path.join(dir, 'd2');
    writeFile(d2, 'ptb/ptb.test.txt', ' a b \n c <unk> \n');
    const ref = resolveDataset('ptb', { dataDirs: [d1, d2] });
    expect(ref).toEqual({
      spec: 'ptb',
      builtin: 'ptb',
      path: path.join(d2, 'ptb/ptb.test.txt'),
      format: 'ptb',
      limit: null,
    });
    expect(await loadDatasetRows(ref)).toEqual(['a b', 'c <unk>']);
    writeFile(d1, 'wikitext2_raw/wiki.test.raw', ' \n = T = \n \n x y \n');
    expect(await loadDatasetRows(resolveDataset('wikitext2', { dataDirs: [d1, d2] }))).toEqual([
      '',
      ' = T = \n',
      '',
      ' x y \n',
    ]);
  });

  it('c4 prefers the full shard-0 file, limited to its first 2000 docs', async () => {
    const d = path.join(dir, 'c4dir');
    const lines = Array.from({ length: 2100 }, (_, i) => JSON.stringify({ text: `doc ${i}` })).join('\n');
    writeFile(d, 'c4/c4-validation.00000-of-00008.json.gz', zlib.gzipSync(lines));
    writeFile(d, 'c4/derived/c4_validation_00000_first1025.jsonl', '{"text": "short"}\n');
    const ref = resolveDataset('c4', { dataDirs: [d] });
    expect(path.basename(ref.path)).toBe('c4-validation.00000-of-00008.json.gz');
    const rows = await loadDatasetRows(ref);
    expect(rows.length).toBe(2000);
    expect(rows[1999]).toBe('doc 1999');
  });
});

describe.skipIf(!hasShared)('built-ins on the shared evaluation data', () => {
  it('the default data dirs include ../shared/data', () => {
    expect(defaultDataDirs()).toContain(SHARED);
  });

  it('wikitext2: 4358 HF rows (1467 empty), joined text matches the HF row construction', async () => {
    const ref = resolveDataset('wikitext2', { dataDirs: [SHARED] });
    const rows = await loadDatasetRows(ref);
    expect(rows.length).toBe(4358);
    expect(rows.filter((r) => r === '').length).toBe(1467);
    expect(rows[1]).toBe(' = Robert Boulter = \n');
    expect(rows.every((r) => r === '' || r.endsWith('\n'))).toBe(true);
    const joined = joinForPerplexity(rows);
    // Independent construction: each raw line -> row, straight from the bytes.
    const raw = fs.readFileSync(ref.path, 'utf8').split('\n').slice(0, -1);
    const expected = raw.map((l) => (/^\s*$/.test(l) ? '' : `${l}\n`)).join('\n\n');
    expect(joined).toBe(expected);
    expect(crypto.createHash('sha256').update(fs.readFileSync(ref.path)).digest('hex')).toBe(
      '173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08',
    );
  });

  it('ptb: 3761 stripped sentences', async () => {
    const rows = await loadDatasetRows(resolveDataset('ptb', { dataDirs: [SHARED] }));
    expect(rows.length).toBe(3761);
    expect(rows[0]).toBe("no it was n't black monday");
    expect(rows.every((r) => r === r.trim())).toBe(true);
  });

  it('c4: shard-0 prefix (1025 docs) starting with doc 0; c4-2k: 2000 parquet rows equal to the jsonl copy', async () => {
    const c4 = await loadDatasetRows(resolveDataset('c4', { dataDirs: [SHARED] }));
    expect(c4.length).toBe(1025);
    expect(c4[0]!.startsWith('The woman who died after falling from a bridge over the A21')).toBe(true);
    const ref = resolveDataset('c4-2k', { dataDirs: [SHARED] });
    expect(ref.format).toBe('parquet');
    const pq = await loadDatasetRows(ref);
    const jl = await loadDatasetRows(resolveDataset(path.join(SHARED, 'c4/derived/c4_validation_2k.jsonl')));
    expect(pq.length).toBe(2000);
    expect(pq).toEqual(jl);
  });

  it('parquet without a text column is refused, listing the columns', async () => {
    // Rename the column in the footer (same-length, length-prefixed thrift strings stay valid).
    const bytes = fs.readFileSync(path.join(SHARED, 'c4/c4_validation_2k.parquet'));
    const footerLen = bytes.readUInt32LE(bytes.length - 8);
    const footer = bytes.subarray(bytes.length - 8 - footerLen, bytes.length - 8);
    for (let i = footer.indexOf('text'); i >= 0; i = footer.indexOf('text', i + 4)) footer.write('body', i);
    const f = writeFile(dir, 'notext.parquet', bytes);
    await expect(loadDatasetRows(resolveDataset(f))).rejects.toThrow(
      /notext\.parquet: text: no "text" column; columns are: body, url, timestamp/,
    );
  });
});
