// Immutable get/set by path on plain JSON objects (pipeline configs edited through forms).

export function getAt(obj: unknown, path: readonly (string | number)[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** A copy of obj with path set to value; `undefined` removes the key (and empty parents stay). */
export function setAt<T>(obj: T, path: readonly (string | number)[], value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const base: Record<string | number, unknown> | unknown[] = Array.isArray(obj)
    ? [...obj]
    : obj !== null && typeof obj === 'object'
      ? { ...(obj as Record<string, unknown>) }
      : typeof head === 'number'
        ? []
        : {};
  const child = setAt((base as Record<string | number, unknown>)[head], rest, value);
  if (child === undefined && !Array.isArray(base)) delete (base as Record<string | number, unknown>)[head];
  else (base as Record<string | number, unknown>)[head] = child;
  return base as T;
}
