// The pipeline editor's one source of truth is the JSON text; the graph and forms read the parsed
// config and write back a re-serialised text. Parse problems become inline issues like schema ones.
import type { ConfigIssue } from '@contract';

export type Parsed = { ok: true; config: Record<string, unknown> } | { ok: false; issue: ConfigIssue };

export function parseConfigText(text: string): Parsed {
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      return { ok: false, issue: { path: '', message: 'the config must be a JSON object' } };
    return { ok: true, config: v as Record<string, unknown> };
  } catch (e) {
    return { ok: false, issue: { path: '', message: `not valid JSON: ${(e as Error).message}` } };
  }
}

export const configText = (config: unknown): string => `${JSON.stringify(config, null, 2)}\n`;
