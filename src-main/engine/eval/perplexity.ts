// Perplexity per METHODS §8.1: non-overlapping windows of seqLen tokens (tail dropped), each scored
// independently; NLL of tokens 1..L-1 from the f32 logits of 0..L-2, log-sum-exp and sums in f64
// on the host; ppl = exp(total NLL / predicted tokens). The host does the CE because tfjs-wasm's
// reductions over [rows, V] (and the row gather that dropped each window's last position) cost
// more than the lm_head product itself; a block of logits is read back once, a memcpy.
import { EngineError } from '../errors';
import { type ExecutorOptions, StreamingExecutor } from '../model/executor';
import type { LoadedModel } from '../model/model';
import { activeBackend, tf } from '../tensor/backend';

export interface PerplexityOptions extends Omit<ExecutorOptions, 'onLayerDone'> {
  seqLen?: number;
  maxWindows?: number;
  /**
   * Windows pushed through each layer together (each layer is loaded once per batch). Default: see
   * `defaultBatch` (≤ 256 MiB of hidden states and ≤ 16k tokens).
   */
  batch?: number;
  /** After each layer of each batch; the batch covers windows [batchStart, batchEnd). */
  onProgress?(e: {
    batchStart: number;
    batchEnd: number;
    windows: number;
    layer: number;
    layers: number;
  }): void;
}

export interface PerplexityResult {
  ppl: number;
  /** Total NLL (nats) over all predicted tokens; nll / tokens = ln(ppl). */
  nll: number;
  tokens: number;
  windows: number;
  seconds: number;
  tokensPerSecond: number;
  peakRssBytes: number;
  backend: string;
}

/** Layer weights a perplexity run keeps resident across its batches (the rest stream). */
export const DEFAULT_KEEP_LAYERS_BYTES = 256 * 2 ** 20;

/** Peak RSS of this process so far (maxRSS is in KiB). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** NLL of targets given one block of logits rows: Σ (logsumexp(z) - z[target]). */
export function blockNll(logits: tf.Tensor2D, targets: Int32Array): number {
  const [n, V] = logits.shape;
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  return hostRowsNll(logits.dataSync() as Float32Array, V, rows, targets);
}

/**
 * Σ over the given rows of a row-major [*, V] f32 block of logsumexp(row) - row[target], in f64
 * (max-shifted, so large logits stay finite).
 */
export function hostRowsNll(z: Float32Array, V: number, rows: Int32Array, targets: Int32Array): number {
  let s = 0;
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i]! * V;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < V; j++) if (z[o + j]! > m) m = z[o + j]!;
    let e = 0;
    for (let j = 0; j < V; j++) e += Math.exp(z[o + j]! - m);
    s += m + Math.log(e) - z[o + targets[i]!]!;
  }
  return s;
}

/**
 * Windows per batch: the [B·T, h] f32 hidden states stay within ~256 MiB. No token cap: the forward
 * works in row blocks (model/blocks/row-blocks.ts), so a batch's cost per token does not grow with
 * its size (tests/unit/forward-batch.test.ts pins the elements read per token).
 */
export function defaultBatch(hidden: number, seqLen: number): number {
  return Math.max(1, Math.floor((256 * 2 ** 20) / (seqLen * hidden * 4)));
}

export async function perplexity(
  model: LoadedModel,
  tokens: ArrayLike<number>,
  opts: PerplexityOptions = {},
): Promise<PerplexityResult> {
  const seqLen = opts.seqLen ?? 2048;
  if (!Number.isInteger(seqLen) || seqLen < 2) {
    throw new EngineError(`sequence length must be an integer ≥ 2, got ${seqLen}`, { field: 'seqLen' });
  }
  if (tokens.length < 2) {
    throw new EngineError(`the sequence has ${tokens.length} token(s); perplexity needs at least 2`, {
      field: 'tokens',
    });
  }
  if (tokens.length < seqLen) {
    throw new EngineError(`only ${tokens.length} tokens, fewer than one window of ${seqLen}`, {
      field: 'seqLen',
      hint: `use --seq-len ${Math.max(2, tokens.length)} or less, or more text`,
    });
  }
  let windows = Math.floor(tokens.length / seqLen);
  if (opts.maxWindows !== undefined) windows = Math.min(windows, Math.max(1, opts.maxWindows));
  const batch = Math.max(1, Math.min(opts.batch ?? defaultBatch(model.spec.hidden, seqLen), windows));
  const layers = model.spec.layers;
  let done = 0;
  let current = 0;
  // several batches through the same layers: keep a small model's layers instead of re-reading
  // them per batch (caller overrides may be loaded and evicted lazily, so those always stream)
  const keepLayersBytes =
    opts.keepLayersBytes ?? (windows > batch && !opts.overrides ? DEFAULT_KEEP_LAYERS_BYTES : 0);
  const exec = new StreamingExecutor(model, {
    ...opts,
    keepLayersBytes,
    onLayerDone: (layer) =>
      opts.onProgress?.({ batchStart: done, batchEnd: done + current, windows, layer, layers }),
  });
  const t0 = performance.now();
  let nll = 0;
  let predicted = 0;
  try {
    for (let w0 = 0; w0 < windows; w0 += batch) {
      const nb = Math.min(batch, windows - w0);
      current = nb;
      const seqs = Array.from(
        { length: nb },
        (_, i) => Array.prototype.slice.call(tokens, (w0 + i) * seqLen, (w0 + i + 1) * seqLen) as number[],
      );
      const x = await exec.forward(exec.embed(seqs));
      try {
        await exec.logitsChunks(x.hidden, (r0, logits) => {
          // Row r = b·T + t predicts token t+1 of sequence b; the last position of each window has no target.
          const [n, V] = logits.shape;
          const keep: number[] = [];
          const targets: number[] = [];
          for (let i = 0; i < n; i++) {
            const r = r0 + i;
            const b = Math.floor(r / seqLen);
            const t = r % seqLen;
            if (t === seqLen - 1) continue;
            keep.push(i);
            targets.push(seqs[b]![t + 1]!);
          }
          if (keep.length === 0) return;
          nll += hostRowsNll(
            logits.dataSync() as Float32Array,
            V,
            Int32Array.from(keep),
            Int32Array.from(targets),
          );
          predicted += keep.length;
        });
      } finally {
        x.hidden.dispose();
      }
      done += nb;
    }
  } finally {
    exec.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  // never a silent `ppl NaN`: a non-finite loss means non-finite activations somewhere
  if (!Number.isFinite(nll))
    throw new EngineError(`the negative log-likelihood is ${nll}: the model produced non-finite logits`, {
      field: 'ppl',
      hint: 'the weights or overrides hold NaN/Inf, or activations overflowed in this dtype',
    });
  return {
    ppl: Math.exp(nll / predicted),
    nll,
    tokens: predicted,
    windows,
    seconds,
    tokensPerSecond: (windows * seqLen) / seconds,
    peakRssBytes: peakRssBytes(),
    backend: activeBackend()?.active ?? tf.getBackend(),
  };
}
