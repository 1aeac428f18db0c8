// GPT-2 byte-level alphabet and pre-tokenisation, exactly as HF `ByteLevel` (use_regex: true) does it,
// so our own encoder and any HF tokenizers runtime split text identically.

/** GPT-2 pre-tokenisation pattern (the one HF's ByteLevel pre-tokenizer uses when use_regex is true). */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Array<string>(256);
  const isPrintable = new Set(printable);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(isPrintable.has(b) ? b : 256 + extra++);
  }
  return table;
}

/** byte value → the single visible character that stands for it. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

export function toByteLevel(piece: string): string {
  let out = '';
  for (const b of utf8.encode(piece)) out += BYTE_TO_CHAR[b];
  return out;
}

export function fromByteLevel(tokens: string): string {
  const bytes = new Uint8Array(tokens.length);
  let n = 0;
  for (const ch of tokens) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) bytes[n++] = b;
  }
  return new TextDecoder().decode(bytes.subarray(0, n));
}

/** Split text into GPT-2 pieces, each mapped to its byte-level string. */
export function preTokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(GPT2_SPLIT)) out.push(toByteLevel(m[0]));
  return out;
}
