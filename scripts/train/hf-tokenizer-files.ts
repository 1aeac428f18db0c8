// Serialise a trained byte-level BPE as the standard HF `tokenizer.json` + `tokenizer_config.json`
// (the layout GPT-2/Llama-3-style fast tokenizers use), loadable by Python `tokenizers` and tokenizers.js.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BpeModel } from './bpe-trainer';

export const BOS = '<s>';
export const EOS = '</s>';
export const PAD = '<pad>';
export const SPECIAL_TOKENS = [BOS, EOS, PAD] as const;

export function tokenizerJson(model: BpeModel): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  model.vocab.forEach((t, i) => {
    vocab[t] = i;
  });
  const bosId = model.vocab.indexOf(BOS);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: model.specialTokens.map((content) => ({
      id: model.vocab.indexOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: BOS, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: BOS, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [BOS]: { id: BOS, ids: [bosId], tokens: [BOS] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // "a b" strings: readable by every tokenizers version (byte-level symbols never contain a space).
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export function tokenizerConfig(model: BpeModel, modelMaxLength: number): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of model.specialTokens) {
    decoder[String(model.vocab.indexOf(t))] = {
      content: t,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: decoder,
    bos_token: BOS,
    eos_token: EOS,
    pad_token: PAD,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

export function specialTokensMap(): Record<string, string> {
  return { bos_token: BOS, eos_token: EOS, pad_token: PAD };
}

export function writeTokenizerFiles(dir: string, model: BpeModel, modelMaxLength: number): void {
  writeFileSync(path.join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizerJson(model), null, 2)}\n`);
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    `${JSON.stringify(tokenizerConfig(model, modelMaxLength), null, 2)}\n`,
  );
  writeFileSync(
    path.join(dir, 'special_tokens_map.json'),
    `${JSON.stringify(specialTokensMap(), null, 2)}\n`,
  );
}
