// Which compared runs share the baseline's evaluation protocol. A perplexity measured on other
// text, windows or tokenizer is a different number, not a delta: the comparison withholds those
// deltas, says why, and offers the matched baseline (the baseline's model under the run's
// protocol) that makes them comparable.
import type { RunDetail } from '@contract';
import {
  evalPplParamsFor,
  type PplProtocol,
  primaryPplProtocol,
  protocolKey,
  protocolText,
} from '@contract/protocol';

/** Metrics whose value depends on what was evaluated and how (a delta needs the same protocol). */
export const PROTOCOL_METRICS: ReadonlySet<string> = new Set(['ppl', 'tokensPerSecond', 'evalTokens']);

export function runPplProtocol(d: RunDetail): PplProtocol | null {
  const stored = d.protocols?.find((p): p is PplProtocol => p.kind === 'ppl');
  return stored ?? primaryPplProtocol(d.kind, d.config);
}

/** Both runs evaluated perplexity the same way (no protocol on either side: not comparable). */
export function comparableRuns(a: RunDetail, b: RunDetail): boolean {
  const pa = runPplProtocol(a);
  const pb = runPplProtocol(b);
  return pa !== null && pb !== null && protocolKey(pa) === protocolKey(pb);
}

export interface ProtocolGroup {
  key: string;
  protocol: PplProtocol | null;
  runIds: number[];
}

/** The runs grouped by their primary perplexity protocol, in first-appearance order. */
export function protocolGroups(runs: readonly RunDetail[]): ProtocolGroup[] {
  const groups = new Map<string, ProtocolGroup>();
  for (const r of runs) {
    const p = runPplProtocol(r);
    const key = p === null ? 'none' : protocolKey(p);
    const g = groups.get(key) ?? { key, protocol: p, runIds: [] };
    g.runIds.push(r.id);
    groups.set(key, g);
  }
  return [...groups.values()];
}

export interface ProtocolMismatch {
  /** the protocol the baseline does not share */
  protocol: PplProtocol;
  runIds: number[];
  /** eval.ppl params of the matched baseline (the runs' source model under `protocol`); null when unknown */
  matchedBaseline: { model: string; evaluations: Record<string, unknown>[] } | null;
  text: string;
}

/** The model a run evaluated or compressed, as its config names it (a built-in name or a folder). */
export function runModelRef(d: RunDetail): string | null {
  const c = (d.config ?? {}) as Record<string, unknown>;
  const inner = (c.config ?? {}) as Record<string, unknown>;
  const m = typeof c.model === 'string' ? c.model : inner.model;
  return typeof m === 'string' && m.length > 0 ? m : null;
}

/**
 * The protocol groups the baseline is not in, each with the eval.ppl params of its matched
 * baseline: the uncompressed model those runs started from (the protocol's tokenizer model)
 * evaluated under exactly that protocol, so its perplexity and theirs form a delta.
 */
export function protocolMismatches(
  runs: readonly RunDetail[],
  baselineId: number | null,
): ProtocolMismatch[] {
  const base = runs.find((r) => r.id === baselineId);
  if (!base) return [];
  const baseKey = protocolGroups([base])[0]!.key;
  return protocolGroups(runs)
    .filter((g) => g.key !== baseKey && g.protocol !== null)
    .map((g) => {
      const first = runs.find((r) => r.id === g.runIds[0]);
      const model = g.protocol!.tokenizer ?? (first ? runModelRef(first) : null);
      return {
        protocol: g.protocol!,
        runIds: g.runIds,
        matchedBaseline: model === null ? null : evalPplParamsFor(model, g.protocol!),
        text: protocolText(g.protocol),
      };
    });
}
