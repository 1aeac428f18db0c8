// One zero-shot multiple-choice task on one model (METHODS §8.2, lm-eval 0.4 semantics): the
// documents' requests encoded as lm-eval encodes them, scored in batches, acc / acc_norm with
// their standard errors.
import type { LoadedModel } from '../../model/model';
import { batchedLoglikelihood, type LoglikOptions, type LoglikRequest } from '../loglikelihood';
import { buildMcDoc, type McDoc, type McRawDocs } from './documents';
import { encodeRequest, requestWindow, type TokenEncoder } from './encode';
import { mean, meanStderr, scoreDoc } from './metrics';
import { MC_TASK_SPECS, type McTaskName } from './tasks';

export interface McDocResult {
  gold: number;
  logliks: number[];
}

export interface McTaskResult {
  task: McTaskName;
  n: number;
  acc: number;
  acc_stderr: number | null;
  /** absent for WinoGrande (lm-eval reports acc only) */
  acc_norm?: number;
  acc_norm_stderr?: number | null;
  docs: McDocResult[];
  requests: number;
  /** tokens of context + continuation over all requests */
  tokens: number;
  forwards: number;
  seconds: number;
}

/** Requests of every document, in document then choice order. */
export function taskDocs<K extends McTaskName>(task: K, docs: readonly McRawDocs[K][]): McDoc[] {
  return docs.map((d, i) => buildMcDoc(task, d, i));
}

export async function evaluateMcTask<K extends McTaskName>(
  model: LoadedModel,
  tok: TokenEncoder,
  task: K,
  raw: readonly McRawDocs[K][],
  maxLength: number,
  opts: LoglikOptions = {},
): Promise<McTaskResult> {
  const t0 = performance.now();
  const docs = taskDocs(task, raw);
  const reqs: LoglikRequest[] = [];
  let tokens = 0;
  for (const d of docs) {
    for (const r of d.requests) {
      const enc = encodeRequest(tok, r);
      tokens += enc.contextTokens.length + enc.continuationTokens.length;
      reqs.push(requestWindow(enc, maxLength));
    }
  }
  const scored = await batchedLoglikelihood(model, reqs, opts);
  let at = 0;
  const out: McDocResult[] = [];
  const acc: number[] = [];
  const accNorm: number[] = [];
  for (const d of docs) {
    const logliks = Array.from(scored.logliks.subarray(at, at + d.requests.length));
    at += d.requests.length;
    const s = scoreDoc(logliks, d.choices, d.gold);
    acc.push(s.acc);
    accNorm.push(s.accNorm);
    out.push({ gold: d.gold, logliks });
  }
  const withNorm = MC_TASK_SPECS[task].accNorm;
  return {
    task,
    n: docs.length,
    acc: mean(acc),
    acc_stderr: meanStderr(acc),
    ...(withNorm ? { acc_norm: mean(accNorm), acc_norm_stderr: meanStderr(accNorm) } : {}),
    docs: out,
    requests: reqs.length,
    tokens,
    forwards: scored.forwards,
    seconds: (performance.now() - t0) / 1000,
  };
}
