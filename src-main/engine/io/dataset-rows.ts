// Turning a data file into rows (documents), with the row semantics of the Hugging Face loaders
// the papers used, so `"\n\n".join(rows)` is byte-identical to theirs.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { EngineError } from '../errors';

/**
 * - `wikitext-raw`: HF `wikitext` builder: each line of the raw file is a row, `line + "\n"`, or
 *   `""` for whitespace-only lines.
 * - `ptb`: HF `ptb_text_only`: each line stripped of surrounding whitespace.
 * - `lines`: HF `text` builder (default `keep_linebreaks=False`): each line is a row without its
 *   line break (\n, \r\n or \r); empty lines are kept as `""`; a final line break adds no row.
 * - `jsonl`: one JSON object per line, its `text` string is the row (blank lines skipped).
 *   `.gz` files are decompressed first.
 * - `parquet`: the `text` column.
 * - `documents`: documents separated by a blank line (the bundled C4 texts); rows joined with
 *   `"\n\n"` give back the file byte for byte, so perplexity sees the text the models trained on.
 */
export type DatasetFormat = 'wikitext-raw' | 'ptb' | 'lines' | 'jsonl' | 'parquet' | 'documents';

function readText(file: string): string {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new EngineError(`cannot read data file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      cause: e,
    });
  }
  if (file.endsWith('.gz')) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new EngineError(`not a valid gzip file (${(e as Error).message})`, { file, cause: e });
    }
  }
  return buf.toString('utf8');
}

/** Lines as Python's `for line in f` yields them (text mode), without the final empty remainder. */
function splitLines(text: string, breaks: RegExp): string[] {
  const lines = text.split(breaks);
  if (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

export async function readRows(file: string, format: DatasetFormat): Promise<string[]> {
  switch (format) {
    case 'wikitext-raw':
      return splitLines(readText(file), /\n/).map((l) => (l.trim() === '' ? '' : `${l}\n`));
    case 'ptb':
      return splitLines(readText(file), /\n/).map((l) => l.trim());
    case 'lines':
      return splitLines(readText(file), /\r\n|\n|\r/);
    case 'jsonl':
      return jsonlRows(file, readText(file));
    case 'parquet':
      return parquetRows(file);
    case 'documents':
      return readText(file).split('\n\n');
  }
}

function jsonlRows(file: string, text: string): string[] {
  const rows: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new EngineError(`line ${i + 1} is not valid JSON (${(e as Error).message})`, {
        file,
        field: `line ${i + 1}`,
      });
    }
    const t = (obj as { text?: unknown } | null)?.text;
    if (typeof t !== 'string') {
      throw new EngineError(`line ${i + 1} has no string "text" field`, {
        file,
        field: `line ${i + 1}.text`,
      });
    }
    rows.push(t);
  }
  return rows;
}

async function parquetRows(file: string): Promise<string[]> {
  let buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    buffer = await asyncBufferFromFile(file);
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new EngineError(`not a readable parquet file (${(e as Error).message})`, { file, cause: e });
  }
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  if (!columns.includes('text')) {
    throw new EngineError(`no "text" column; columns are: ${columns.join(', ')}`, { file, field: 'text' });
  }
  const objects = await parquetReadObjects({ file: buffer, metadata, columns: ['text'] });
  return objects.map((o, i) => {
    const t = o.text;
    if (typeof t !== 'string') {
      throw new EngineError(`row ${i} has a non-string text value (${t === null ? 'null' : typeof t})`, {
        file,
        field: `text[${i}]`,
      });
    }
    return t;
  });
}
