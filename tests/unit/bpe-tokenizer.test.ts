import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { BpeEncoder } from '../../scripts/train/bpe-encoder';
import { trainBpe } from '../../scripts/train/bpe-trainer';
import { BYTE_TO_CHAR, fromByteLevel, preTokenize, toByteLevel } from '../../scripts/train/byte-level';
import { SPECIAL_TOKENS, tokenizerConfig, tokenizerJson } from '../../scripts/train/hf-tokenizer-files';

const corpus = readFileSync('resources/data/calib/c4-calib.txt', 'utf8').slice(0, 120_000);
const sample = readFileSync('resources/data/heldout/c4-heldout.txt', 'utf8').slice(0, 20_000);
const specials = [...SPECIAL_TOKENS];

describe('byte-level alphabet', () => {
  it('maps 256 bytes to 256 distinct printable chars, GPT-2 style', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[65]).toBe('A');
    expect(fromByteLevel(toByteLevel('naïve — 東京 🙂'))).toBe('naïve — 東京 🙂');
  });
  it('splits like the GPT-2 pattern', () => {
    expect(preTokenize("I'm  here, 123 ok")).toEqual(['I', "'m", 'Ġ', 'Ġhere', ',', 'Ġ123', 'Ġok']);
  });
});

describe('BPE trainer', () => {
  it('learns merges in count order with a deterministic tie-break', () => {
    const m = trainBpe('ab ab ab abc', { vocabSize: 300, specialTokens: specials });
    // (a,b) occurs 4×, then (Ġ,ab) 3×; (ab,c) occurs once, below the min pair count of 2.
    expect(m.merges).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    expect(m.vocab.slice(0, 3)).toEqual(specials);
    expect(m.vocab.slice(-2)).toEqual(['ab', 'Ġab']);
  });
  it('is deterministic and stops at the requested vocab size', () => {
    const a = trainBpe(corpus, { vocabSize: 700, specialTokens: specials });
    const b = trainBpe(corpus, { vocabSize: 700, specialTokens: specials });
    expect(a.vocab.length).toBe(700);
    expect(a.merges).toEqual(b.merges);
    expect(a.vocab).toEqual(b.vocab);
    expect(new Set(a.vocab).size).toBe(a.vocab.length);
  });
  it('rejects a vocab smaller than specials + 256 bytes', () => {
    expect(() => trainBpe('x', { vocabSize: 100, specialTokens: specials })).toThrow(/vocabSize/);
  });
});

describe('tokenizer files', () => {
  const model = trainBpe(corpus, { vocabSize: 800, specialTokens: specials });
  const enc = new BpeEncoder(model);
  const json = tokenizerJson(model);
  const cfg = tokenizerConfig(model, 2048);

  it('round-trips held-out text exactly with our encoder', () => {
    const ids = enc.encode(sample);
    expect(ids.length).toBeLessThan(sample.length / 2);
    expect(enc.decode(ids)).toBe(sample);
  });

  it('loads in @huggingface/tokenizers, gives the same ids plus BOS, and decodes exactly', () => {
    const tk = new Tokenizer(json as never, cfg as never);
    const e = tk.encode(sample);
    expect(e.ids[0]).toBe(0);
    expect(e.ids.slice(1)).toEqual(enc.encode(sample));
    expect(tk.decode(e.ids, { skip_special_tokens: true })).toBe(sample);
  });

  it('declares the special tokens and HF fields exactly', () => {
    const m = json.model as Record<string, unknown>;
    expect(m.type).toBe('BPE');
    expect(m.byte_fallback).toBe(false);
    expect(m.ignore_merges).toBe(false);
    expect((m.vocab as Record<string, number>)['<s>']).toBe(0);
    expect((m.vocab as Record<string, number>)['</s>']).toBe(1);
    expect((m.vocab as Record<string, number>)['<pad>']).toBe(2);
    expect((m.merges as string[])[0]).toBe(model.merges[0]!.join(' '));
    expect((json.added_tokens as { id: number; special: boolean }[]).map((t) => [t.id, t.special])).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
    expect(json.pre_tokenizer).toMatchObject({ type: 'ByteLevel', use_regex: true, add_prefix_space: false });
    expect(json.decoder).toMatchObject({ type: 'ByteLevel' });
    expect(json.post_processor).toMatchObject({ type: 'TemplateProcessing' });
    expect(cfg).toMatchObject({
      add_bos_token: true,
      add_eos_token: false,
      bos_token: '<s>',
      eos_token: '</s>',
      model_max_length: 2048,
      tokenizer_class: 'PreTrainedTokenizerFast',
    });
  });
});
