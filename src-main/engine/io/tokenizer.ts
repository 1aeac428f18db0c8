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

/** The tokenizers.json model types read here (those @huggingface/tokenizers implements). */
export const SUPPORTED_TOKENIZER_MODELS = ['BPE', 'WordPiece', 'Unigram'] as const;
const SUPPORTED_LIST = 'BPE, WordPiece and Unigram';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * The `model` section must be one of the supported types and hold what that type needs: the
 * library, given another type's tables, fails with a JS message ("text is not iterable") or, worse,
 * builds a tokenizer that yields `undefined` ids (a BPE vocab labelled WordPiece).
 */
function checkTokenizerModel(model: unknown, file: string): void {
  const type = isPlainObject(model) ? model.type : undefined;
  if (!(SUPPORTED_TOKENIZER_MODELS as readonly unknown[]).includes(type)) {
    throw new EngineError(
      `unsupported tokenizer model type ${JSON.stringify(type)}; the workbench reads ${SUPPORTED_LIST} tokenizers`,
      {
        file,
        field: 'model.type',
        hint: 'save the tokenizer with a fast (tokenizers-backed) class: AutoTokenizer.from_pretrained(...).save_pretrained(dir)',
      },
    );
  }
  const m = model as Record<string, unknown>;
  const wrong = (field: string, needs: string, got: string) =>
    new EngineError(`model.type is "${type}", whose ${field} must be ${needs}; this one is ${got}`, {
      file,
      field: `model.${field.replace(/^model\./, '')}`,
      hint: `model.type must name the model the file holds (${SUPPORTED_LIST} are read)`,
    });
  if (type === 'Unigram') {
    if (!Array.isArray(m.vocab))
      throw wrong(
        'model.vocab',
        'a list of [piece, score] pairs',
        `${describeValue(m.vocab)}${isPlainObject(m.vocab) ? ' (the vocab of a BPE or WordPiece model)' : ''}`,
      );
    const bad = m.vocab.findIndex(
      (e) => !Array.isArray(e) || typeof e[0] !== 'string' || !Number.isFinite(e[1]),
    );
    if (bad >= 0)
      throw wrong(
        'model.vocab',
        'a list of [piece, score] pairs',
        `entry ${bad}: ${JSON.stringify(m.vocab[bad])}`,
      );
    const unk = m.unk_id;
    if (
      unk !== undefined &&
      unk !== null &&
      !(Number.isInteger(unk) && (unk as number) >= 0 && (unk as number) < m.vocab.length)
    )
      throw wrong('model.unk_id', `null or an index 0..${m.vocab.length - 1}`, JSON.stringify(unk));
    return;
  }
  if (!isPlainObject(m.vocab))
    throw wrong(
      'model.vocab',
      'an object mapping each token to its id',
      `${describeValue(m.vocab)}${Array.isArray(m.vocab) ? ' (the vocab of a Unigram model)' : ''}`,
    );
  const vocab = m.vocab;
  for (const [token, id] of Object.entries(vocab))
    if (!Number.isSafeInteger(id) || (id as number) < 0)
      throw wrong(
        'model.vocab',
        'an object mapping each token to its id',
        `${JSON.stringify(token)}: ${JSON.stringify(id)}`,
      );
  const unk = m.unk_token;
  if (type === 'WordPiece' && (typeof unk !== 'string' || !(unk in vocab)))
    throw wrong('model.unk_token', 'a token of model.vocab', JSON.stringify(unk));
  if (type === 'BPE') {
    if (unk !== undefined && unk !== null && (typeof unk !== 'string' || !(unk in vocab)))
      throw wrong('model.unk_token', 'null or a token of model.vocab', JSON.stringify(unk));
    if (!Array.isArray(m.merges))
      throw wrong('model.merges', 'a list of merges ("a b" or ["a", "b"])', describeValue(m.merges));
    const bad = m.merges.findIndex(
      (x) =>
        !(typeof x === 'string' && x.includes(' ')) &&
        !(Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string'),
    );
    if (bad >= 0)
      throw wrong(
        'model.merges',
        'a list of merges ("a b" or ["a", "b"])',
        `entry ${bad}: ${JSON.stringify(m.merges[bad])}`,
      );
  }
}

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
  checkTokenizerModel((tj as { model?: unknown }).model, tjPath);
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
