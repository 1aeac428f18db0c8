// The one load-and-tokenize sequence: a data set's rows joined with "\n\n" (or a text file read as
// one string), tokenized once with the model's tokenizer and its default special tokens — exactly
// what perplexity evaluation, `moe-bench tokenize` and calibration sampling read. Token-id files
// ({"ids": [...]}, as `tokenize` writes them) skip the tokenizer.
import fs from 'node:fs';
import { EngineError } from '../errors';
import { readTokenIds } from '../eval/token-ids';
import { joinForPerplexity, loadDatasetRows } from './datasets';
import type { Resolver } from './resolver';
import { loadTokenizer, type ModelTokenizer } from './tokenizer';

/** Exactly one of the three. Paths resolve against the resolver's baseDir. */
export interface TokenSource {
  /** a built-in data set name or a data file */
  dataset?: string | undefined;
  /** a UTF-8 text file, tokenized as one string */
  text?: string | undefined;
  /** a {"ids": [...]} file */
  tokenIds?: string | undefined;
}

export type TextSource = Omit<TokenSource, 'tokenIds'>;

/** What the source is called in records and messages: the data set name or the path as given. */
export function sourceLabel(src: TokenSource): string {
  return src.dataset ?? src.text ?? src.tokenIds ?? '';
}

function only(src: TokenSource): 'dataset' | 'text' | 'tokenIds' {
  const given = (['dataset', 'text', 'tokenIds'] as const).filter((k) => src[k] !== undefined);
  if (given.length !== 1)
    throw new EngineError('give exactly one of dataset, text or tokenIds', {
      field: given.join('+') || 'source',
    });
  return given[0]!;
}

/**
 * `field`: prefix of the field errors name (`calibration.` gives `calibration.dataset`).
 *
 * Checks that a source resolves (a known data set or an existing file) without reading it; on the
 * main thread before a run is created. Returns the file that would be read.
 */
export function checkSource(src: TokenSource, r: Resolver, field = ''): string {
  const kind = only(src);
  if (kind === 'dataset') return r.resolveDataset(src.dataset!, `${field}dataset`).path;
  return r.resolveFile(src[kind]!, `${field}${kind}`);
}

export interface SourceText {
  text: string;
  /** the file read */
  file: string;
  /** the built-in data set's name, or null for a file given by path */
  builtin: string | null;
  /** data set rows joined, or null for a text file */
  rows: number | null;
  /** one line describing what was read */
  note: string;
}

/** A data set's rows joined for perplexity, or a text file as it is. */
export async function sourceText(src: TextSource, r: Resolver, field = ''): Promise<SourceText> {
  if (only(src) === 'dataset') {
    const ref = r.resolveDataset(src.dataset!, `${field}dataset`);
    const rows = await loadDatasetRows(ref);
    return {
      text: joinForPerplexity(rows),
      file: ref.path,
      builtin: ref.builtin,
      rows: rows.length,
      note: `dataset ${ref.builtin ?? ref.spec}: ${rows.length} rows from ${ref.path}`,
    };
  }
  const file = r.resolveFile(src.text!, `${field}text`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError(`cannot read text file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      field: `${field}text`,
    });
  }
  return { text, file, builtin: null, rows: null, note: `text ${file}: ${text.length} chars` };
}

export interface SourceTokens {
  ids: number[];
  /** the file read */
  file: string;
  /** what was read and how it was tokenized, one line each */
  notes: string[];
}

/**
 * The token ids of a source. `tokenizer`: one already loaded, or the model folder to load it from
 * (loaded only when the source is text).
 */
export async function sourceTokens(
  src: TokenSource,
  r: Resolver,
  tokenizer: ModelTokenizer | string,
  field = '',
): Promise<SourceTokens> {
  if (only(src) === 'tokenIds') {
    const file = r.resolveFile(src.tokenIds!, `${field}tokenIds`);
    const ids = readTokenIds(file);
    return { ids, file, notes: [`token ids ${file}: ${ids.length} tokens`] };
  }
  const tok = typeof tokenizer === 'string' ? await loadTokenizer(tokenizer) : tokenizer;
  const t = await sourceText(src, r, field);
  const t0 = performance.now();
  const ids = tok.encode(t.text);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  return {
    ids,
    file: t.file,
    notes: [
      t.note,
      `tokenized ${t.text.length} chars -> ${ids.length} tokens in ${s} s (${tok.specialTokenRule})`,
    ],
  };
}
