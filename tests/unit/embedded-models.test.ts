// The bundled data sets resolve from resources/data alone (a fresh install has no ../shared), and each
// embedded model card's Evaluation section holds `moe-bench eval ppl` commands that are valid and
// agree with the card's own table. The numbers themselves come from `npm run eval:embedded`.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { joinForPerplexity, loadDatasetRows, resolveDataset } from '../../src-main/engine/io/datasets';
import { loadTokenizer } from '../../src-main/engine/io/tokenizer';

const ROOT = path.resolve(__dirname, '../..');
const DATA = path.join(ROOT, 'resources/data');
const MODELS = ['tiny-mixtral', 'tiny-deepseek'];

describe('bundled data sets', () => {
  it('calib, heldout and wikitext2 resolve to resources/data with no other data dir', () => {
    expect(resolveDataset('calib', { dataDirs: [DATA] }).path).toBe(path.join(DATA, 'calib/c4-calib.txt'));
    expect(resolveDataset('heldout', { dataDirs: [DATA] }).path).toBe(
      path.join(DATA, 'heldout/c4-heldout.txt'),
    );
    const wt = resolveDataset('wikitext2', { dataDirs: [DATA] });
    expect([wt.path, wt.format]).toEqual([path.join(DATA, 'wikitext2/wiki.test.raw'), 'wikitext-raw']);
  });

  it('calib and heldout are documents: the perplexity text is the file byte for byte', async () => {
    for (const name of ['calib', 'heldout']) {
      const ref = resolveDataset(name, { dataDirs: [DATA] });
      const rows = await loadDatasetRows(ref);
      expect(rows.length).toBeGreaterThan(100);
      expect(joinForPerplexity(rows)).toBe(fs.readFileSync(ref.path, 'utf8'));
    }
  });
});

function evaluation(name: string): { table: string; commands: string[][] } {
  const card = fs.readFileSync(path.join(ROOT, 'resources/models', name, 'README.md'), 'utf8');
  const start = card.indexOf('## Evaluation');
  const section = card.slice(start, card.indexOf('### Routed-expert utilisation'));
  const commands = section
    .split('\n')
    .filter((l) => l.startsWith('moe-bench eval ppl '))
    .map((l) => l.split(/\s+/).slice(3));
  return { table: section, commands };
}

describe.each(MODELS)('model card of %s', (name) => {
  const { table, commands } = evaluation(name);

  it('reproduces held-out and WikiText-2 with valid eval ppl command lines', () => {
    expect(commands.map((c) => c[c.indexOf('--dataset') + 1])).toEqual(['heldout', 'wikitext2']);
    for (const args of commands) {
      const { values, positionals } = parseArgs({
        args,
        strict: true,
        options: {
          model: { type: 'string' },
          dataset: { type: 'string' },
          'seq-len': { type: 'string' },
          'max-windows': { type: 'string' },
          batch: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      expect(positionals).toEqual([]);
      expect(values.model).toBe(`resources/models/${name}`);
      expect(fs.existsSync(path.join(ROOT, values.model!, 'config.json'))).toBe(true);
      expect(() => resolveDataset(values.dataset!, { dataDirs: [DATA] })).not.toThrow();
      expect(values['seq-len']).toBe('512');
      if (values['max-windows'] !== undefined) expect(Number(values['max-windows'])).toBeGreaterThan(0);
    }
  });

  it('states the held-out window count the engine uses and a consistent unigram ratio', async () => {
    const ref = resolveDataset('heldout', { dataDirs: [DATA] });
    const tok = await loadTokenizer(path.join(ROOT, 'resources/models', name));
    const n = tok.encode(joinForPerplexity(await loadDatasetRows(ref))).length;
    const windows = Math.floor(n / 512);
    const row = table.split('\n').find((l) => l.includes('`heldout`'))!;
    expect(row).toContain(
      `${windows} windows of 512, ${(windows * 511).toLocaleString('en-US')} scored tokens`,
    );
    const num = (label: string) =>
      Number(
        table
          .split('\n')
          .find((l) => l.startsWith(`| ${label}`))!
          .split('|')[2]!
          .replace(/\*/g, ''),
      );
    const ppl = Number(row.split('|')[2]!.replace(/\*/g, ''));
    expect(ppl / num('unigram baseline')).toBeCloseTo(num('ratio model / unigram'), 2);
    expect(num('ratio model / unigram')).toBeLessThanOrEqual(0.5);
    expect(num('smallest routed-expert share')).toBeGreaterThanOrEqual(0.25);
  });
});
