import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src-main/engine/io/tokenizer';
import { tempDir, writeFile } from './io-helpers';

const FIXTURE = path.resolve(__dirname, '../fixtures/io/tiny-bpe');
const dir = tempDir('moe-tok-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Fixture ids: bytes 0..255, merges 256.. (he=256, ll=257, hell=258, hello=259, Ġw=260, or=261,
// Ġwor=262, Ġworl=263, Ġworld=264, Ġt=265, Ġthe=266, ĊĊ=267), <s>=268, </s>=269.
const BOS = 268;
const EOS = 269;

function variant(
  name: string,
  config: Record<string, unknown>,
  edit?: (tj: Record<string, unknown>) => void,
): string {
  const d = path.join(dir, name);
  const tj = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'tokenizer.json'), 'utf8'));
  edit?.(tj);
  writeFile(d, 'tokenizer.json', JSON.stringify(tj));
  writeFile(d, 'tokenizer_config.json', JSON.stringify({ bos_token: '<s>', eos_token: '</s>', ...config }));
  return d;
}

describe('loadTokenizer on the tiny byte-level BPE fixture', () => {
  it('encodes with the merges and the template BOS, and decodes back', async () => {
    const tok = await loadTokenizer(FIXTURE);
    expect(tok.vocabSize).toBe(270);
    expect(tok.bosTokenId).toBe(BOS);
    expect(tok.eosTokenId).toBe(EOS);
    expect(tok.addBos).toBe(true);
    expect(tok.addEos).toBe(false);
    expect(tok.specialTokenRule).toBe('tokenizer.json post-processor');
    expect(tok.encode('hello world')).toEqual([BOS, 259, 264]);
    expect(tok.encode('hello world', { addSpecialTokens: false })).toEqual([259, 264]);
    // "the" without a leading space is not merged to Ġthe; "\n\n" before a word splits into two Ċ.
    expect(tok.encode('hello\n\nthe world', { addSpecialTokens: false })).toEqual([
      259, 10, 10, 116, 256, 264,
    ]);
    // Non-ASCII goes through byte symbols: é = 0xC3 0xA9 -> ids 195, 169.
    expect(tok.encode('héllo', { addSpecialTokens: false })).toEqual([104, 195, 169, 257, 111]);
    for (const s of ['hello world', 'héllo\n\n = x = \n', 'tab\there 123']) {
      expect(tok.decode(tok.encode(s, { addSpecialTokens: false }))).toBe(s);
    }
    expect(tok.decode([BOS, 259])).toBe('<s>hello');
  });

  it('Llama rule: add_eos_token=true appends EOS, class default keeps BOS', async () => {
    const tok = await loadTokenizer(
      variant('llama-eos', { tokenizer_class: 'LlamaTokenizerFast', add_eos_token: true }),
    );
    expect(tok.addBos).toBe(true);
    expect(tok.addEos).toBe(true);
    expect(tok.encode('hello')).toEqual([BOS, 259, EOS]);
    expect(tok.encode('hello', { addSpecialTokens: false })).toEqual([259]);
  });

  it('Llama rule: add_bos_token=false drops the BOS that the tokenizer.json template adds', async () => {
    const tok = await loadTokenizer(
      variant('llama-nobos', { tokenizer_class: 'LlamaTokenizer', add_bos_token: false }),
    );
    expect(tok.addBos).toBe(false);
    expect(tok.encode('hello')).toEqual([259]);
    expect(tok.specialTokenRule).toMatch(/LlamaTokenizer rule/);
  });

  it('Llama rule without flags: BOS on, even when tokenizer.json has no post-processor', async () => {
    const tok = await loadTokenizer(
      variant('llama-default', { tokenizer_class: 'LlamaTokenizerFast' }, (tj) => (tj.post_processor = null)),
    );
    expect(tok.encode('hello')).toEqual([BOS, 259]);
  });

  it('GPT-NeoX rule: no specials by default (OLMoE)', async () => {
    const tok = await loadTokenizer(variant('neox', { tokenizer_class: 'GPTNeoXTokenizer' }));
    expect(tok.addBos).toBe(false);
    expect(tok.encode('hello')).toEqual([259]);
  });

  it('other classes follow tokenizer.json (no post-processor: no specials)', async () => {
    const tok = await loadTokenizer(
      variant(
        'qwen',
        { tokenizer_class: 'Qwen2Tokenizer', bos_token: null },
        (tj) => (tj.post_processor = null),
      ),
    );
    expect(tok.bosTokenId).toBe(null);
    expect(tok.addBos).toBe(false);
    expect(tok.encode('hello world')).toEqual([259, 264]);
  });

  it('accepts AddedToken-style bos_token objects and a missing tokenizer_config.json', async () => {
    const d = variant('objtok', {
      tokenizer_class: 'LlamaTokenizerFast',
      bos_token: { content: '<s>', lstrip: false },
    });
    expect((await loadTokenizer(d)).bosTokenId).toBe(BOS);
    fs.rmSync(path.join(d, 'tokenizer_config.json'));
    const tok = await loadTokenizer(d);
    expect(tok.bosTokenId).toBe(BOS); // taken from the template's leading special token
    expect(tok.addBos).toBe(true);
    expect(tok.eosTokenId).toBe(null);
    expect(tok.encode('hello')).toEqual([BOS, 259]);
  });

  it('special-token text inside the input maps to the special id', async () => {
    const tok = await loadTokenizer(FIXTURE);
    expect(tok.encode('hello</s>', { addSpecialTokens: false })).toEqual([259, EOS]);
  });
});
