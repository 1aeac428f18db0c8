// Which tokenizer.json model types the workbench reads, and what a file whose tables do not fit its
// `model.type` gets: a sentence naming the file, the field and the type, not the library's
// "text is not iterable" (a BPE file relabelled Unigram) or, silently, `undefined` ids (relabelled
// WordPiece).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { loadTokenizer, SUPPORTED_TOKENIZER_MODELS } from '../../src-main/engine/io/tokenizer';
import { tempDir } from './io-helpers';

const dir = tempDir('tok-types-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const unk = (content: string) => ({
  id: 0,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});
const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
const UNIGRAM = {
  version: '1.0',
  added_tokens: [unk('<unk>')],
  normalizer: null,
  pre_tokenizer: metaspace,
  post_processor: null,
  decoder: metaspace,
  model: {
    type: 'Unigram',
    unk_id: 0,
    byte_fallback: false,
    vocab: [['<unk>', 0], ['▁hello', -1], ['▁world', -1.5], ['▁', -2], ...[...'helowrd'].map((c) => [c, -3])],
  },
};
const WORDPIECE = {
  version: '1.0',
  added_tokens: [unk('[UNK]')],
  normalizer: null,
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: null,
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: { '[UNK]': 0, hello: 1, world: 2, '##s': 3 },
  },
};
const BPE = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../resources/models/tiny-mixtral/tokenizer.json'), 'utf8'),
);

function folder(name: string, tokenizer: unknown): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(tokenizer));
  return d;
}
const relabel = (t: { model: object }, type: string) => ({ ...t, model: { ...t.model, type } });

async function failure(d: string): Promise<EngineError> {
  const e = await loadTokenizer(d).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(EngineError);
  return e as EngineError;
}

describe('tokenizer model types', () => {
  it('reads BPE, WordPiece and Unigram tokenizers', async () => {
    expect([...SUPPORTED_TOKENIZER_MODELS]).toEqual(['BPE', 'WordPiece', 'Unigram']);
    for (const [name, t] of [
      ['unigram', UNIGRAM],
      ['wordpiece', WORDPIECE],
    ] as const) {
      const tok = await loadTokenizer(folder(name, t));
      const ids = tok.encode('hello world');
      expect(ids, name).toEqual([1, 2]);
      expect(tok.decode(ids), name).toBe('hello world');
    }
    const bpe = await loadTokenizer(folder('bpe', BPE));
    expect(bpe.encode('hello world', { addSpecialTokens: false }).every(Number.isInteger)).toBe(true);
  });

  it('an unknown type names the file, model.type, the value and the types read', async () => {
    const d = folder('sp', relabel(UNIGRAM, 'SentencePieceMagic'));
    const e = await failure(d);
    expect(e.file).toBe(path.join(d, 'tokenizer.json'));
    expect(e.field).toBe('model.type');
    expect(e.message).toBe(
      `${e.file}: model.type: unsupported tokenizer model type "SentencePieceMagic"; the workbench reads BPE, WordPiece and Unigram tokenizers`,
    );
    expect((await failure(folder('none', { ...UNIGRAM, model: undefined }))).message).toMatch(
      /model\.type: unsupported tokenizer model type undefined; the workbench reads BPE, WordPiece and Unigram/,
    );
  });

  it.each([
    [
      'a BPE file relabelled Unigram',
      relabel(BPE, 'Unigram'),
      'model.vocab',
      /"Unigram", whose model\.vocab must be a list of \[piece, score\] pairs; this one is an object/,
    ],
    [
      'a BPE file relabelled WordPiece (was: undefined ids)',
      relabel(BPE, 'WordPiece'),
      'model.unk_token',
      /"WordPiece", whose model\.unk_token must be a token of model\.vocab; this one is null/,
    ],
    [
      'a Unigram file relabelled BPE',
      relabel(UNIGRAM, 'BPE'),
      'model.vocab',
      /"BPE", whose model\.vocab must be an object mapping each token to its id; this one is a list \(the vocab of a Unigram model\)/,
    ],
    [
      'a WordPiece file relabelled BPE (no merges)',
      relabel(WORDPIECE, 'BPE'),
      'model.merges',
      /"BPE", whose model\.merges must be a list of merges/,
    ],
    [
      'a Unigram entry without a score',
      { ...UNIGRAM, model: { ...UNIGRAM.model, vocab: [['<unk>', 0], ['x']] } },
      'model.vocab',
      /entry 1: \["x"\]/,
    ],
    [
      'a Unigram unk_id past the vocab',
      { ...UNIGRAM, model: { ...UNIGRAM.model, unk_id: 99 } },
      'model.unk_id',
      /model\.unk_id must be null or an index 0\.\.10; this one is 99/,
    ],
  ])('%s: names the file, the field and the type', async (name, t, field, re) => {
    const d = folder(name.replace(/\W+/g, '-'), t);
    const e = await failure(d);
    expect(e.file).toBe(path.join(d, 'tokenizer.json'));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(re);
    expect(e.hint).toBe(
      'model.type must name the model the file holds (BPE, WordPiece and Unigram are read)',
    );
  });
});
