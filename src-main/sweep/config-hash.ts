// The identity of a run: sha256 of its resolved pipeline config in canonical JSON (keys sorted),
// without the display name. Two sweep points with the same hash are the same computation, so the
// second is reused, never recomputed.
import { createHash } from 'node:crypto';
import type { PipelineConfig } from '../engine/pipeline/config';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function configHash(config: PipelineConfig): string {
  const { name: _name, ...what } = config;
  return createHash('sha256').update(canonicalJson(what)).digest('hex');
}
