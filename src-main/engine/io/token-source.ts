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

/**
 * Largest text file read whole (a character device such as /dev/zero has no end at all): beyond
 * it the read stops with an error instead of growing memory without bound.
 */
export const MAX_TEXT_BYTES = 512 * 2 ** 20;
const CHUNK = 4 * 2 ** 20;

/** At most `maxBytes` of `file`, read in chunks; `eof`: the file ended within them. */
function readPrefix(file: string, maxBytes: number, field: string): { bytes: Buffer; eof: boolean } {
  const parts: Buffer[] = [];
  let total = 0;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new EngineError(`cannot read text file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      field,
    });
  }
  try {
    for (;;) {
      const want = Math.min(CHUNK, maxBytes - total);
      if (want <= 0) return { bytes: Buffer.concat(parts), eof: false };
      const buf = Buffer.allocUnsafe(want);
      const got = fs.readSync(fd, buf, 0, want, null);
      if (got === 0) return { bytes: Buffer.concat(parts), eof: true };
      parts.push(got === want ? buf : buf.subarray(0, got));
      total += got;
    }
  } catch (e) {
    throw new EngineError(`cannot read text file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      field,
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** A whole text file, refused (naming it) past MAX_TEXT_BYTES. */
function readWholeText(file: string, field: string): string {
  const { bytes, eof } = readPrefix(file, MAX_TEXT_BYTES, field);
  if (!eof)
    throw new EngineError(`text file is larger than ${MAX_TEXT_BYTES / 2 ** 20} MiB (or has no end)`, {
      file,
      field,
      hint: 'give a smaller file, or a window cap (maxWindows) so only its beginning is read',
    });
  return bytes.toString('utf8');
}

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
  const text = readWholeText(file, `${field}text`);
  return { text, file, builtin: null, rows: null, note: `text ${file}: ${text.length} chars` };
}

export interface SourceTokens {
  ids: number[];
  /** the file read */
  file: string;
  /** what was read and how it was tokenized, one line each */
  notes: string[];
}

/** tokens past the needed ones a prefix must yield, so the cut cannot change the kept ones */
const CUT_MARGIN = 64;

/**
 * The first `maxTokens` ids of a text file, reading only a growing prefix of it: each prefix is cut
 * at its last whitespace (a pre-tokenizer boundary, so the ids before it are those of the whole
 * text) and must yield CUT_MARGIN ids more than needed; the end of the file ends the search.
 */
function textPrefixTokens(
  file: string,
  field: string,
  tok: ModelTokenizer,
  maxTokens: number,
): { ids: number[]; chars: number; eof: boolean } {
  for (let bytes = Math.max(1 << 16, 8 * (maxTokens + CUT_MARGIN)); ; bytes *= 4) {
    const capped = Math.min(bytes, MAX_TEXT_BYTES);
    const { bytes: buf, eof } = readPrefix(file, capped, field);
    let text = buf.toString('utf8');
    if (!eof) {
      const cut = Math.max(text.lastIndexOf(' '), text.lastIndexOf('\n'));
      text = cut > 0 ? text.slice(0, cut) : text.replace(/\uFFFD+$/, ''); // a split UTF-8 sequence decodes as U+FFFD
    }
    const ids = tok.encode(text);
    if (eof) return { ids, chars: text.length, eof };
    if (ids.length >= maxTokens + CUT_MARGIN)
      return { ids: ids.slice(0, maxTokens), chars: text.length, eof };
    if (capped === MAX_TEXT_BYTES)
      throw new EngineError(
        `the first ${MAX_TEXT_BYTES / 2 ** 20} MiB of the text file give only ${ids.length} tokens, fewer than the ${maxTokens} needed`,
        {
          file,
          field,
          hint: 'the file is not text (a device or binary data?)',
        },
      );
  }
}

/**
 * The token ids of a source. `tokenizer`: one already loaded, or the model folder to load it from
 * (loaded only when the source is text). `maxTokens`: only that many are needed (a window cap), so
 * a text file is read only as far as they reach.
 */
export async function sourceTokens(
  src: TokenSource,
  r: Resolver,
  tokenizer: ModelTokenizer | string,
  field = '',
  maxTokens?: number,
): Promise<SourceTokens> {
  if (only(src) === 'tokenIds') {
    const file = r.resolveFile(src.tokenIds!, `${field}tokenIds`);
    const ids = readTokenIds(file);
    return { ids, file, notes: [`token ids ${file}: ${ids.length} tokens`] };
  }
  const tok = typeof tokenizer === 'string' ? await loadTokenizer(tokenizer) : tokenizer;
  if (only(src) === 'text' && maxTokens !== undefined) {
    const file = r.resolveFile(src.text!, `${field}text`);
    const t0 = performance.now();
    const p = textPrefixTokens(file, `${field}text`, tok, maxTokens);
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    return {
      ids: p.ids,
      file,
      notes: [
        `text ${file}: ${p.eof ? 'whole file' : `first ${p.chars} chars`} (${maxTokens} tokens needed)`,
        `tokenized ${p.chars} chars -> ${p.ids.length} tokens in ${s} s (${tok.specialTokenRule})`,
      ],
    };
  }
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
