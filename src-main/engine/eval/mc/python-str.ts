// Python `str` semantics the lm-eval task code relies on, where JavaScript differs: `isspace`
// (rstrip/strip with no argument), `len` in code points, and `capitalize` (first character upper,
// the rest lower).

// Python's str.isspace() set (Unicode White_Space plus the \x1c-\x1f separators), not JS's \s
// (which adds U+FEFF and lacks \x1c-\x1f and U+0085).
const PY_SPACE = new Set(
  [
    '\t',
    '\n',
    '\x0b',
    '\x0c',
    '\r',
    '\x1c',
    '\x1d',
    '\x1e',
    '\x1f',
    ' ',
    '\x85',
    '\xa0',
    '\u1680',
    '\u2000',
    '\u2001',
    '\u2002',
    '\u2003',
    '\u2004',
    '\u2005',
    '\u2006',
    '\u2007',
    '\u2008',
    '\u2009',
    '\u200a',
    '\u2028',
    '\u2029',
    '\u202f',
    '\u205f',
    '\u3000',
  ].map((c) => c.codePointAt(0)!),
);

export function isPySpace(ch: string): boolean {
  return PY_SPACE.has(ch.codePointAt(0)!);
}

/** `s.rstrip()`: all BMP whitespace is one UTF-16 unit, so unit-wise scanning is exact. */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && PY_SPACE.has(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}

/** `s.lstrip()` */
export function pyLstrip(s: string): string {
  let start = 0;
  while (start < s.length && PY_SPACE.has(s.charCodeAt(start))) start++;
  return s.slice(start);
}

/** `s.strip()` */
export function pyStrip(s: string): string {
  return pyLstrip(pyRstrip(s));
}

/** `s.rstrip(chars)` */
export function pyRstripChars(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** `len(s)`: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `s.capitalize()` */
export function pyCapitalize(s: string): string {
  const cps = [...s];
  if (cps.length === 0) return s;
  return cps[0]!.toUpperCase() + cps.slice(1).join('').toLowerCase();
}
