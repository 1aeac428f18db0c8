// Batched log-likelihood of continuations (lm-eval's `_loglikelihood_tokens`): each request is a
// model input and the span of its positions whose next-token log-probabilities are summed.
//
// Batching: requests are deduplicated, a request whose input is a prefix of a longer one is read
// from the longer one's forward pass (causal attention: the first k positions do not see the
// rest), and the remaining inputs go through the model longest first, right-padded to the longest
// of their batch, as many per batch as fit a token budget. Right padding is exact for the same
// reason. Only the rows that score a token reach the LM head; log-softmax in f32 on the device,
// sums in f64 on the host.
import { EngineError } from '../errors';
import { type ExecutorOptions, StreamingExecutor } from '../model/executor';
import type { LoadedModel } from '../model/model';
import type { Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';

export interface LoglikRequest {
  /** model input tokens */
  input: readonly number[];
  /** tokens scored: targets[j] is predicted at input position first + j */
  targets: readonly number[];
  first: number;
}

export interface LoglikOptions extends Omit<ExecutorOptions, 'onLayerDone'> {
  /** padded tokens per forward pass (batch × longest input). Default: see defaultTokenBudget. */
  tokenBudget?: number;
  onBatch?(e: { done: number; total: number; forwards: number }): void;
}

export interface LoglikResult {
  /** per request, Σ log p(target_j | input[..first+j]) */
  logliks: Float64Array;
  /** forward passes (batches) run */
  forwards: number;
  /** distinct inputs that went through the model (after dedup and prefix sharing) */
  sequences: number;
  /** padded tokens pushed through the model */
  paddedTokens: number;
}

/**
 * ≤ 4096 padded tokens per batch and ≤ 256 MiB of f32 hidden states. On the wasm backend a tiny
 * model ran ~400 tok/s with 1.6k–3.2k-token batches but 46 tok/s with one 16k-token batch, and
 * batches of one short sequence are dominated by per-op overhead (30 tok/s).
 */
export function defaultTokenBudget(hidden: number): number {
  return Math.max(1, Math.min(4096, Math.floor((256 * 2 ** 20) / (4 * hidden))));
}

// Prefix hashes: h_k = (h_{k-1}·B + t + 1) mod P stays below 2^53 for P < 2^33, B ≈ 2^20.
const HASH_B = 1_000_003;
const HASH_P = 4_294_967_311;

function prefixHashes(ids: readonly number[]): Float64Array {
  const out = new Float64Array(ids.length);
  let h = 0;
  for (let i = 0; i < ids.length; i++) {
    h = (h * HASH_B + ids[i]! + 1) % HASH_P;
    out[i] = h;
  }
  return out;
}

function isPrefix(a: readonly number[], b: readonly number[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** log p(target) per row: z[t] − logsumexp(z). */
function rowLogprobs(logits: Tensor2D, targets: Int32Array): Float32Array {
  const [n, V] = logits.shape;
  const idx = tf.tensor1d(
    Int32Array.from(targets, (t, i) => i * V + t),
    'int32',
  );
  const lp = tf.tidy(() => tf.sub(tf.gather(tf.reshape(logits, [n * V]), idx), tf.logSumExp(logits, 1)));
  const out = lp.dataSync() as Float32Array;
  tf.dispose([idx, lp]);
  return out;
}

export async function batchedLoglikelihood(
  model: LoadedModel,
  requests: readonly LoglikRequest[],
  opts: LoglikOptions = {},
): Promise<LoglikResult> {
  const V = model.spec.vocab;
  for (const [i, r] of requests.entries()) {
    if (r.first < 0 || r.first + r.targets.length > r.input.length)
      throw new EngineError(
        `request ${i}: scored span [${r.first}, ${r.first + r.targets.length}) is outside its ${r.input.length} input tokens`,
        { field: 'requests' },
      );
    const bad = r.targets.find((t) => !Number.isInteger(t) || t < 0 || t >= V);
    if (bad !== undefined)
      throw new EngineError(`request ${i}: target token ${bad} is outside the vocabulary 0..${V - 1}`, {
        field: 'requests',
      });
  }
  const logliks = new Float64Array(requests.length);
  // the sequences that run: longest first; every request points at one and reads its own rows
  const order = requests
    .map((_, i) => i)
    .filter((i) => requests[i]!.targets.length > 0)
    .sort((a, b) => requests[b]!.input.length - requests[a]!.input.length || a - b);
  const seqs: (readonly number[])[] = [];
  const host = new Int32Array(requests.length).fill(-1);
  const byPrefix = new Map<number, number[]>(); // prefix hash → sequences having that prefix
  for (const i of order) {
    const input = requests[i]!.input;
    const hashes = prefixHashes(input);
    const candidates = byPrefix.get(hashes[input.length - 1]!) ?? [];
    const found = candidates.find((s) => isPrefix(input, seqs[s]!));
    if (found !== undefined) {
      host[i] = found;
      continue;
    }
    const s = seqs.length;
    seqs.push(input);
    host[i] = s;
    for (let k = 0; k < hashes.length; k++) {
      const list = byPrefix.get(hashes[k]!);
      if (list) list.push(s);
      else byPrefix.set(hashes[k]!, [s]);
    }
  }
  const members: number[][] = seqs.map(() => []);
  for (const i of order) members[host[i]!]!.push(i);

  const budget = opts.tokenBudget ?? defaultTokenBudget(model.spec.hidden);
  const exec = new StreamingExecutor(model, opts);
  let forwards = 0;
  let padded = 0;
  try {
    for (let s0 = 0; s0 < seqs.length; ) {
      const T = seqs[s0]!.length; // the longest of the batch (sorted)
      const B = Math.max(1, Math.min(seqs.length - s0, Math.floor(budget / T)));
      const batch = seqs.slice(s0, s0 + B).map((s) => {
        const row = Array.from(s);
        while (row.length < T) row.push(s[s.length - 1]!);
        return row;
      });
      // the scored rows of the batch and what each predicts
      const rows: number[] = [];
      const targets: number[] = [];
      const owner: number[] = [];
      for (let b = 0; b < B; b++) {
        for (const i of members[s0 + b]!) {
          const r = requests[i]!;
          for (let j = 0; j < r.targets.length; j++) {
            rows.push(b * T + r.first + j);
            targets.push(r.targets[j]!);
            owner.push(i);
          }
        }
      }
      const x = await exec.forward(exec.embed(batch));
      const picked = tf.tidy(() => tf.gather(x.hidden, tf.tensor1d(rows, 'int32')) as Tensor2D);
      x.hidden.dispose();
      try {
        await exec.logitsChunks(picked, (r0, logits) => {
          const n = logits.shape[0];
          const lp = rowLogprobs(logits, Int32Array.from(targets.slice(r0, r0 + n)));
          for (let k = 0; k < n; k++) logliks[owner[r0 + k]!] += lp[k]!;
        });
      } finally {
        picked.dispose();
      }
      forwards++;
      padded += B * T;
      s0 += B;
      opts.onBatch?.({ done: s0, total: seqs.length, forwards });
    }
  } finally {
    exec.dispose();
  }
  const nan = logliks.findIndex((v) => Number.isNaN(v));
  if (nan >= 0) throw new EngineError(`log-likelihood of request ${nan} is NaN`, { field: 'logits' });
  return { logliks, forwards, sequences: seqs.length, paddedTokens: padded };
}
