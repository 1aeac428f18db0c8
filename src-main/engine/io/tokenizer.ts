// The model's tokenizer, loaded from tokenizer.json + tokenizer_config.json with
// @huggingface/tokenizers (pure JS port of the Rust `tokenizers` pipeline).
//
// Special tokens: what `transformers.AutoTokenizer` produces, not just what tokenizer.json says.
// transformers' fast Llama / CodeLlama / Gemma / GPT-NeoX / Cohere tokenizers rebuild the
// post-processor at load time from `add_bos_token` / `add_eos_token` (class defaults when the
// config omits them: bos on / eos off for Llama, CodeLlama, Gemma, Cohere; both off for GPT-NeoX),
// replacing the template stored in tokenizer.json. We do the same for those classes, and also
// for any class whose tokenizer_config.json sets either flag explicitly (transformers 5 applies
// the flags generally). Every other tokenizer uses tokenizer.json's post-processor as is.
// The result is `[bos]? + ids + [eos]?` built here from the plain encoding.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../errors';
import { parseJson } from './json-depth';

export interface EncodeOptions {
  /** Add BOS/EOS as the model's tokenizer does by default (true, like transformers). */
  addSpecialTokens?: boolean;
}

export interface ModelTokenizer {
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: number[]): string;
  /** Vocabulary size including added tokens (= len(tokenizer) in transformers). */
  vocabSize: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** Whether encode() with special tokens puts BOS first / EOS last. */
  addBos: boolean;
  addEos: boolean;
  /** How addBos/addEos were decided, for run records and `moe-bench tokenize --json`. */
  specialTokenRule: string;
}

const FLAG_CLASSES: Record<string, { bos: boolean; eos: boolean }> = {
  LlamaTokenizer: { bos: true, eos: false },
  CodeLlamaTokenizer: { bos: true, eos: false },
  GemmaTokenizer: { bos: true, eos: false },
  CohereTokenizer: { bos: true, eos: false },
  GPTNeoXTokenizer: { bos: false, eos: false },
};

const SUPPORTED_MODELS = ['BPE', 'WordPiece', 'Unigram'];

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError(`cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      cause: e,
    });
  }
  try {
    return parseJson(text);
  } catch (e) {
    throw new EngineError(`${what} is not valid JSON (${(e as Error).message})`, { file, cause: e });
  }
}

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return null;
}

export async function loadTokenizer(modelDir: string): Promise<ModelTokenizer> {
  const dir = path.resolve(modelDir);
  const tjPath = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(tjPath)) {
    const slow = ['tokenizer.model', 'vocab.json'].filter((f) => fs.existsSync(path.join(dir, f)));
    throw new EngineError(`no tokenizer.json in the model folder`, {
      file: dir,
      hint: slow.length
        ? `found ${slow.join(', ')} (a slow tokenizer); save a fast one with AutoTokenizer.from_pretrained(...).save_pretrained(dir)`
        : 'the model folder must hold tokenizer.json (and tokenizer_config.json)',
    });
  }
  const tj = readJson(tjPath, 'tokenizer.json');
  if (tj === null || typeof tj !== 'object' || Array.isArray(tj)) {
    throw new EngineError('tokenizer.json must be a JSON object', { file: tjPath });
  }
  const model = (tj as { model?: { type?: unknown } }).model;
  const modelType = model && typeof model === 'object' ? model.type : undefined;
  if (!SUPPORTED_MODELS.includes(String(modelType))) {
    throw new EngineError(
      `unsupported tokenizer model type ${JSON.stringify(modelType)}; supported: ${SUPPORTED_MODELS.join(', ')}`,
      {
        file: tjPath,
        field: 'model.type',
      },
    );
  }
  const cfgPath = path.join(dir, 'tokenizer_config.json');
  const cfgRaw = fs.existsSync(cfgPath) ? readJson(cfgPath, 'tokenizer_config.json') : {};
  if (cfgRaw === null || typeof cfgRaw !== 'object' || Array.isArray(cfgRaw)) {
    throw new EngineError('tokenizer_config.json must be a JSON object', { file: cfgPath });
  }
  const cfg = cfgRaw as Record<string, unknown>;
  const tjObj = tj as Record<string, unknown>;
  if (!Array.isArray(tjObj.added_tokens)) tjObj.added_tokens = [];

  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tjObj, cfg);
  } catch (e) {
    throw new EngineError(`tokenizer could not be built (${(e as Error).message})`, {
      file: tjPath,
      cause: e,
    });
  }

  const bosContent = tokenContent(cfg.bos_token);
  const eosContent = tokenContent(cfg.eos_token);
  let bosTokenId = bosContent === null ? null : (tok.token_to_id(bosContent) ?? null);
  let eosTokenId = eosContent === null ? null : (tok.token_to_id(eosContent) ?? null);

  const cls = typeof cfg.tokenizer_class === 'string' ? cfg.tokenizer_class.replace(/Fast$/, '') : '';
  const defaults = FLAG_CLASSES[cls];
  const hasFlag = typeof cfg.add_bos_token === 'boolean' || typeof cfg.add_eos_token === 'boolean';
  let override: { bos: boolean; eos: boolean } | null = null;
  let specialTokenRule: string;
  if (defaults || hasFlag) {
    override = {
      bos: typeof cfg.add_bos_token === 'boolean' ? cfg.add_bos_token : (defaults?.bos ?? false),
      eos: typeof cfg.add_eos_token === 'boolean' ? cfg.add_eos_token : (defaults?.eos ?? false),
    };
    specialTokenRule = `add_bos_token=${override.bos}, add_eos_token=${override.eos} (${defaults ? `${cls} rule` : 'explicit flags'} in tokenizer_config.json)`;
    for (const [on, id, key] of [
      [override.bos, bosTokenId, 'bos_token'],
      [override.eos, eosTokenId, 'eos_token'],
    ] as const) {
      if (on && id === null) {
        throw new EngineError(
          `${key.replace('_token', '')} token is to be added but ${key} is missing or not in the vocabulary`,
          {
            file: cfgPath,
            field: key,
          },
        );
      }
    }
  } else {
    specialTokenRule = 'tokenizer.json post-processor';
  }

  // Probe what the template adds, so addBos/addEos also describe the no-override case.
  const probePlain = tok.encode('a', { add_special_tokens: false }).ids;
  const probeFull = tok.encode('a', { add_special_tokens: true }).ids;
  // Without a config bos/eos, the template's leading/trailing special token is taken as such.
  const templateBos =
    probeFull.length > probePlain.length && probeFull[0] !== probePlain[0] ? probeFull[0]! : null;
  const templateEos =
    probeFull.length > probePlain.length && probeFull.at(-1) !== probePlain.at(-1) ? probeFull.at(-1)! : null;
  if (!override && bosContent === null) bosTokenId = templateBos;
  if (!override && eosContent === null) eosTokenId = templateEos;
  const addBos = override ? override.bos : templateBos !== null && templateBos === bosTokenId;
  const addEos = override ? override.eos : templateEos !== null && templateEos === eosTokenId;
  const vocabSize = tok.get_vocab(true).size;

  return {
    vocabSize,
    bosTokenId,
    eosTokenId,
    addBos,
    addEos,
    specialTokenRule,
    encode(text: string, opts: EncodeOptions = {}): number[] {
      const special = opts.addSpecialTokens ?? true;
      if (!override) return tok.encode(text, { add_special_tokens: special }).ids;
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      if (!special) return ids;
      if (override.bos) ids.unshift(bosTokenId!);
      if (override.eos) ids.push(eosTokenId!);
      return ids;
    },
    decode(ids: number[]): string {
      return tok.decode(ids, { skip_special_tokens: false });
    },
  };
}
