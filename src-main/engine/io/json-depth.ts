// JSON.parse itself copes with any nesting, but whatever walks the value afterwards (stringify,
// structured clone to a worker, zod) recurses and dies with "Maximum call stack size exceeded". No
// file or frame the workbench reads is legitimately nested deeper than a few dozen levels, so the
// depth is counted first, in one iterative pass over the text.
export const MAX_JSON_DEPTH = 256;

/** JSON.parse, refusing text nested deeper than `maxDepth` (a SyntaxError, as for malformed text). */
export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new SyntaxError(`nested deeper than ${maxDepth} levels at position ${i}`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return JSON.parse(text);
}
