// lm-eval 0.4 HFLM request encoding for a causal LM (lm_eval/models/huggingface.py):
//   - tok_encode adds no special tokens (add_special_tokens=False: no BOS);
//   - `_encode_pair`: trailing whitespace of the context moves to the front of the continuation;
//     continuation tokens = tokens(context + continuation) after the first len(tokens(context));
//   - an empty context is replaced by the EOS token (0.4.0–0.4.2 `eot_token_id`), the
//     continuation then encoded alone;
//   - `_loglikelihood_tokens` feeds (context + continuation)[-(max_length + 1):][:-1], i.e. keeps
//     the last max_length + 1 tokens (left truncation).
import fs from 'node:fs';
import { EngineError } from '../../errors';
import type { McRequest } from './documents';
import { pyRstrip } from './python-str';

export interface TokenEncoder {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  eosTokenId: number | null;
}

export interface TokenRequest {
  contextTokens: number[];
  continuationTokens: number[];
}

/** `_encode_pair(context, continuation)` on its strings: the split before tokenization. */
export function splitTrailingSpace(context: string, continuation: string): McRequest {
  const n = context.length - pyRstrip(context).length;
  return n > 0
    ? { context: context.slice(0, -n), continuation: context.slice(-n) + continuation }
    : { context, continuation };
}

export function encodeRequest(tok: TokenEncoder, req: McRequest): TokenRequest {
  const enc = (s: string) => tok.encode(s, { addSpecialTokens: false });
  if (req.context === '') {
    if (tok.eosTokenId === null)
      throw new EngineError('an empty context needs the EOS token, and the tokenizer defines none', {
        field: 'eos_token',
      });
    return { contextTokens: [tok.eosTokenId], continuationTokens: enc(req.continuation) };
  }
  const { context, continuation } = splitTrailingSpace(req.context, req.continuation);
  const whole = enc(context + continuation);
  const contextTokens = enc(context);
  return { contextTokens, continuationTokens: whole.slice(contextTokens.length) };
}

/**
 * lm-eval's max_length: the first of n_positions / max_position_embeddings / n_ctx in the model
 * config, else 2048 (its default when neither config nor tokenizer says).
 */
export function maxLengthOf(config: Record<string, unknown>): number {
  for (const k of ['n_positions', 'max_position_embeddings', 'n_ctx']) {
    const v = config[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return 2048;
}

/** maxLengthOf the model's config.json. */
export function modelMaxLength(model: { configFile: string }): number {
  return maxLengthOf(JSON.parse(fs.readFileSync(model.configFile, 'utf8')) as Record<string, unknown>);
}

/** The model input and the scored span: input = whole[-(maxLength+1):][:-1]. */
export function requestWindow(
  r: TokenRequest,
  maxLength: number,
): { input: number[]; targets: number[]; first: number } {
  const whole = [...r.contextTokens, ...r.continuationTokens];
  const kept = whole.slice(-(maxLength + 1));
  const input = kept.slice(0, -1);
  const n = r.continuationTokens.length;
  if (n > input.length)
    throw new EngineError(
      `a continuation of ${n} tokens does not fit the model's ${maxLength}-token window`,
      {
        field: 'continuation',
      },
    );
  // logits at input positions [first, first + n) predict the continuation tokens
  return { input, targets: r.continuationTokens, first: input.length - n };
}
