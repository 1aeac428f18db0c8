// A small structural diff for configs: flatten every config to leaf paths, keep the paths whose
// values are not all the same. Works for two or more configs; arrays are compared by index.

export type JsonLeaf = string | number | boolean | null;

/** Leaf paths of a JSON value: `steps[0].params.rank` → 40. Empty objects/arrays are leaves. */
export function flattenJson(value: unknown, prefix = '', out = new Map<string, JsonLeaf | string>()) {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, '[]');
    for (const [i, v] of value.entries()) flattenJson(v, `${prefix}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => k !== '$schema');
    if (keys.length === 0) out.set(prefix, '{}');
    for (const k of keys)
      flattenJson((value as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(prefix, value as JsonLeaf);
  }
  return out;
}

export interface DiffRow {
  path: string;
  /** one entry per config; undefined where that config lacks the path */
  values: (JsonLeaf | string | undefined)[];
}

/** Only the paths where the configs differ, in first-seen order. */
export function diffConfigs(configs: readonly unknown[]): DiffRow[] {
  const flat = configs.map((c) => flattenJson(c));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const f of flat)
    for (const p of f.keys())
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
  const rows: DiffRow[] = [];
  for (const path of paths) {
    const values = flat.map((f) => (f.has(path) ? f.get(path) : undefined));
    const first = JSON.stringify(values[0] ?? null) + String(values[0] === undefined);
    if (values.some((v) => JSON.stringify(v ?? null) + String(v === undefined) !== first))
      rows.push({ path, values });
  }
  return rows;
}

export function formatLeaf(v: JsonLeaf | string | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
