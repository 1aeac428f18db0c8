// Incremental decoding with a KV cache: every decoder layer, the final norm and lm_head are loaded
// once and kept; `prefill` runs the prompts (B equal-length sequences) through all layers filling
// the cache, `step` runs one new token per sequence against it. Logits equal those of a full
// forward pass of the whole sequence (tests/unit/model-kv-decode.test.ts). `greedy` is the fixed-
// length greedy generation the speed measurement times (§8.3).
import { EngineError } from '../errors';
import { tf } from '../tensor/backend';
import { KvCache } from './blocks/kv-cache';
import {
  disposeHead,
  disposeResident,
  type ExecutorOptions,
  type HeadWeights,
  type HiddenBatch,
  type ResidentLayer,
  StreamingExecutor,
} from './executor';
import type { LoadedModel } from './model';
import type { LayerObserver, Tensor2D } from './types';

export interface DecoderOptions extends Omit<ExecutorOptions, 'onLayerDone' | 'observer'> {
  /** sees every layer of the prefill and of each step (rows are those of the current call) */
  observer?: LayerObserver;
}

export class Decoder {
  readonly model: LoadedModel;
  readonly exec: StreamingExecutor;
  readonly layers: ResidentLayer[] = [];
  readonly cache: KvCache;
  private readonly head: HeadWeights;
  private readonly observer: LayerObserver | undefined;
  private batch = 0;

  constructor(model: LoadedModel, opts: DecoderOptions = {}) {
    this.model = model;
    this.exec = new StreamingExecutor(model, opts);
    this.observer = opts.observer;
    try {
      for (let l = 0; l < model.spec.layers; l++) this.layers.push(this.exec.loadResident(l));
      this.head = this.exec.loadHead();
    } catch (e) {
      this.disposeLayers();
      throw e;
    }
    this.cache = new KvCache(model.spec.layers);
  }

  /** Positions cached so far. */
  get length(): number {
    return this.cache.length;
  }

  /**
   * Run B equal-length prompts from an empty cache; returns the logits of every position [B·T, V],
   * or with `lastOnly` of each prompt's last position [B, V] (generation needs only those).
   */
  async prefill(prompts: ArrayLike<number>[], lastOnly = false): Promise<Float32Array> {
    if (this.cache.length !== 0)
      throw new EngineError('prefill needs an empty KV cache', { field: 'prompt' });
    this.batch = prompts.length;
    return this.run(this.exec.embed(prompts), lastOnly ? 'last' : 'all');
  }

  /** One new token per sequence (ids[b] for sequence b); returns its logits [B, V]. */
  async step(ids: ArrayLike<number>): Promise<Float32Array> {
    if (this.cache.length === 0) throw new EngineError('step needs a prefill first', { field: 'token ids' });
    if (ids.length !== this.batch)
      throw new EngineError(`step got ${ids.length} token ids for a batch of ${this.batch}`, {
        field: 'token ids',
      });
    return this.run(this.exec.embed(Array.from(ids, (id) => [id])), 'last');
  }

  /** Layers then head; `rows`: logits of every position, or of each sequence's last one. */
  private async run(x: HiddenBatch, rows: 'all' | 'last'): Promise<Float32Array> {
    let cur = x;
    try {
      for (const r of this.layers) {
        const next = await this.exec.runResident(r, cur, {
          ...(this.observer ? { observer: this.observer } : {}),
          kv: this.cache.layers[r.layer]!,
        });
        cur.hidden.dispose();
        cur = { ...cur, hidden: next };
      }
      const last: Tensor2D =
        rows === 'all' || cur.seqLen === 1
          ? cur.hidden
          : tf.tidy(() => {
              const idx = tf.tensor1d(
                Int32Array.from({ length: cur.batch }, (_, b) => b * cur.seqLen + cur.seqLen - 1),
                'int32',
              );
              return tf.gather(cur.hidden, idx) as Tensor2D;
            });
      const V = this.model.spec.vocab;
      const out = new Float32Array(last.shape[0] * V);
      try {
        await this.exec.logitsChunks(
          last,
          (r0, logits) => {
            out.set(logits.dataSync() as Float32Array, r0 * V);
          },
          this.head,
        );
      } finally {
        if (last !== cur.hidden) last.dispose();
      }
      return out;
    } finally {
      cur.hidden.dispose();
    }
  }

  /** Empty the cache (the layers stay loaded) for a new generation. */
  reset(): void {
    this.cache.dispose();
    this.batch = 0;
  }

  private disposeLayers(): void {
    for (const r of this.layers) disposeResident(r);
    this.layers.length = 0;
  }

  dispose(): void {
    this.cache.dispose();
    disposeHead(this.head);
    this.disposeLayers();
    this.exec.dispose();
  }
}

/** Index of the largest value of row r of a [rows, V] block (first one on ties, as torch.argmax). */
export function argmaxRow(logits: Float32Array, r: number, V: number): number {
  let best = 0;
  let bv = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < V; j++) {
    const v = logits[r * V + j]!;
    if (Number.isNaN(v)) throw new EngineError(`logit ${j} of row ${r} is NaN`, { field: 'logits' });
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

export interface GreedyTimings {
  /** generated ids per sequence (genLen each) */
  tokens: number[][];
  prefillSeconds: number;
  /** one entry per decode step (genLen − 1 steps: the first new token comes from the prefill) */
  stepSeconds: number[];
}

/**
 * Greedy generation of genLen tokens after each prompt (no stopping at EOS: fixed lengths, as the
 * reference speed harnesses do). `onTick` runs between timed regions (memory sampling).
 */
export async function greedy(
  dec: Decoder,
  prompts: ArrayLike<number>[],
  genLen: number,
  onTick?: () => void,
): Promise<GreedyTimings> {
  const V = dec.model.spec.vocab;
  const B = prompts.length;
  let t0 = performance.now();
  const pre = await dec.prefill(prompts, true);
  const prefillSeconds = (performance.now() - t0) / 1000;
  onTick?.();
  let next = Array.from({ length: B }, (_, b) => argmaxRow(pre, b, V));
  const tokens = next.map((id) => [id]);
  const stepSeconds: number[] = [];
  for (let i = 1; i < genLen; i++) {
    t0 = performance.now();
    const z = await dec.step(next);
    stepSeconds.push((performance.now() - t0) / 1000);
    onTick?.();
    next = Array.from({ length: B }, (_, b) => argmaxRow(z, b, V));
    for (const [b, id] of next.entries()) tokens[b]!.push(id);
  }
  return { tokens, prefillSeconds, stepSeconds };
}
