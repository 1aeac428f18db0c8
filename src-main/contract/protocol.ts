// A run's evaluation protocol as data: which text, which split, how long each window, how many
// windows, whose tokenizer, which multiple-choice tasks and limits. Two perplexities are comparable
// only under the same protocol (a ppl on heldout·512 and one on wikitext2·256 differ by tens of
// percent with the same model), so lists, comparisons and reports read it from here.
//
// The protocol is read from the run's stored config: the host stores the job's params *resolved*
// (every default filled in), so the config is the faithful record of what was evaluated. No
// Node, Electron or zod imports: the renderer imports this file directly (`@contract/protocol`).

export interface PplProtocol {
  kind: 'ppl';
  /** which field named the text: a data set (built-in name or data file), a text file, token ids */
  source: 'dataset' | 'text' | 'tokenIds';
  /** built-in data set name or file path, as the run named it */
  dataset: string;
  /** the split a built-in data set holds (null for a user file: the file is the split) */
  split: string | null;
  seqLen: number;
  /** at most this many windows (null: the whole text) */
  maxWindows: number | null;
  /** the model whose tokenizer turned the text into ids (the source model of a compressed run) */
  tokenizer: string | null;
}

export interface McProtocol {
  kind: 'mc';
  tasks: string[];
  /** documents per task (null: all) */
  limit: number | null;
  tokenizer: string | null;
}

export type EvalProtocol = PplProtocol | McProtocol;

/**
 * The perplexity protocol new work uses by default: the first-run baseline, the editor's new
 * pipeline, the model page's Evaluate and the example pipelines, so their figures line up.
 */
export const DEFAULT_PPL_PROTOCOL = { dataset: 'wikitext2', seqLen: 256, maxWindows: 16 } as const;

/** The split each bundled data set holds (resources/data/README.md). */
const BUILTIN_SPLITS: Record<string, string> = {
  wikitext2: 'test',
  heldout: 'c4 held-out',
  calib: 'c4 train (calibration)',
};

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function pplOf(ev: unknown, tokenizer: string | null): PplProtocol | null {
  const e = asObj(ev);
  const source = str(e.dataset) ? 'dataset' : str(e.text) ? 'text' : str(e.tokenIds) ? 'tokenIds' : null;
  const seqLen = int(e.seqLen);
  if (source === null || seqLen === null) return null;
  const dataset = str(e[source])!;
  return {
    kind: 'ppl',
    source,
    dataset,
    split: source === 'dataset' ? (BUILTIN_SPLITS[dataset] ?? null) : null,
    seqLen,
    maxWindows: int(e.maxWindows),
    // token-id files were tokenized before the run: the run cannot tell by whom
    tokenizer: source === 'tokenIds' ? null : tokenizer,
  };
}

/**
 * Every evaluation a run's config asks for, in the order the job records its metrics: the
 * perplexity evaluations first (an eval.ppl run's `evaluations`, a compress run's `evaluate.ppl`
 * then `evaluate.perplexity`), then the multiple-choice settings.
 */
export function runProtocols(kind: string, config: unknown): EvalProtocol[] {
  const c = asObj(config);
  const pipeline = 'steps' in c ? c : asObj(c.config);
  const out: EvalProtocol[] = [];
  const push = (p: EvalProtocol | null) => {
    if (p) out.push(p);
  };
  if (kind === 'compress' || 'steps' in pipeline) {
    const tok = str(pipeline.model);
    const ev = asObj(pipeline.evaluate);
    if (ev.ppl) push(pplOf(ev.ppl, tok));
    if (Array.isArray(ev.perplexity)) for (const e of ev.perplexity) push(pplOf(e, tok));
    const mc = asObj(ev.mc);
    if (Array.isArray(mc.tasks)) push(mcOf(mc, tok));
    return out;
  }
  const tok = str(c.model);
  if (Array.isArray(c.evaluations)) for (const e of c.evaluations) push(pplOf(e, tok));
  if (Array.isArray(c.tasks)) push(mcOf(c, tok));
  return out;
}

function mcOf(s: Obj, tokenizer: string | null): McProtocol {
  return {
    kind: 'mc',
    tasks: (s.tasks as unknown[]).filter((t): t is string => typeof t === 'string'),
    limit: int(s.limit),
    tokenizer,
  };
}

/** The protocol of a run's primary perplexity (the first it records, the one lists show). */
export function primaryPplProtocol(kind: string, config: unknown): PplProtocol | null {
  return (runProtocols(kind, config).find((p) => p.kind === 'ppl') as PplProtocol | undefined) ?? null;
}

/** Equal keys ⇔ the same protocol. */
export function protocolKey(p: EvalProtocol): string {
  return p.kind === 'ppl'
    ? JSON.stringify(['ppl', p.source, p.dataset, p.split, p.seqLen, p.maxWindows, p.tokenizer])
    : JSON.stringify(['mc', [...p.tasks].sort(), p.limit, p.tokenizer]);
}

export function sameProtocol(a: EvalProtocol | null, b: EvalProtocol | null): boolean {
  return a !== null && b !== null && protocolKey(a) === protocolKey(b);
}

/** "wikitext2 (test) · seq 256 · ≤16 windows · tokenizer tiny-mixtral" */
export function protocolText(p: EvalProtocol | null): string {
  if (p === null) return 'no evaluation';
  const tok = p.tokenizer === null ? 'pre-tokenized' : `tokenizer ${p.tokenizer}`;
  if (p.kind === 'mc')
    return `${p.tasks.join(', ')} · ${p.limit === null ? 'all documents' : `≤${p.limit} documents`} · ${tok}`;
  return [
    `${p.dataset}${p.split ? ` (${p.split})` : ''}`,
    `seq ${p.seqLen}`,
    p.maxWindows === null ? 'all windows' : `≤${p.maxWindows} windows`,
    tok,
  ].join(' · ');
}

/** The eval.ppl params that evaluate `model` under `p`: the matched baseline of a run. */
export function evalPplParamsFor(model: string, p: PplProtocol): { model: string; evaluations: Obj[] } {
  const ev: Obj = { [p.source]: p.dataset, seqLen: p.seqLen };
  if (p.maxWindows !== null) ev.maxWindows = p.maxWindows;
  return { model, evaluations: [ev] };
}
