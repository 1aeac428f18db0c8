// Layer-streaming executor: keeps the hidden states of one batch of equal-length sequences as a
// flattened [B·T, h] tensor, loads one decoder layer at a time (bf16/f16 decoded by the checkpoint
// reader, projections transposed once on read), runs it in bounded chunks and frees it. With
// `keepLayersBytes` the loaded layers stay for the executor's life while they fit: a small model
// run batch after batch (perplexity) then decodes its weights once, not once per batch — at the
// bench shape a layer's load costs about as much as running 512 tokens through it. A layer whose
// routed experts exceed `expertBudgetBytes` (Mixtral-8x7B: 5.6 GiB per layer in f32, over the 4 GiB
// wasm heap) is loaded without them: each routed expert is read after routing and freed after use.
import { CancelledError, EngineError } from '../errors';
import { tf } from '../tensor/backend';
import { attention } from './blocks/attention';
import { gatedMlp } from './blocks/gated-mlp';
import type { LayerKv } from './blocks/kv-cache';
import { layerNorm } from './blocks/layer-norm';
import { moeBlock } from './blocks/moe-block';
import { rmsNorm } from './blocks/rms-norm';
import { type RopeTables, ropeTables, ropeTablesAt } from './blocks/rope';
import { HostRows } from './blocks/row-blocks';
import { readRows } from './embedding-rows';
import { layerExpertBudgetBytes } from './expert-budget';
import {
  disposeExecLayer,
  disposeMoeView,
  type ExecLayer,
  loadExecLayer,
  type NormWeights,
} from './layer-weights';
import type { LoadedModel } from './model';
import { sourceLayerOverride } from './source-layer';
import { globalNames } from './tensor-names';
import type { LayerObserver, LayerOverride, Linear, Tensor2D } from './types';

export interface ExecutorOptions {
  /** Replacement weights per layer (compression runner); consulted every time a layer is loaded. */
  overrides?: ReadonlyMap<number, LayerOverride>;
  /** Default observer for every layer (runLayer can pass its own). */
  observer?: LayerObserver;
  /** Rows per MoE / MLP chunk (bounds expert activations). Default 1024. */
  tokenChunk?: number;
  /** Bytes for one block of attention scores [heads, queries, keys]. Default 64 MiB. */
  scoreBudgetBytes?: number;
  /** Bytes for one block of logits [rows, vocab]. Default 64 MiB. */
  logitsBudgetBytes?: number;
  /**
   * Keep loaded layers across runLayer/forward calls while their weights total at most this many
   * bytes (later layers stream as usual); freed by dispose(). Default 0: every call loads and
   * frees its layer. A kept layer is reused only while `overrides.get(l)` returns the same object.
   */
  keepLayersBytes?: number;
  /**
   * A layer whose routed experts (f32) exceed this many bytes reads each routed expert just before
   * use and frees it after (ExecMoe.stream). Default: MOE_LAYER_BUDGET_MB, else 1 GiB. Replacement
   * experts of an override are in memory already and run as given.
   */
  expertBudgetBytes?: number;
  signal?: AbortSignal;
  onLayerDone?(layer: number, layers: number): void;
}

/** A decoder layer loaded once and run many times (executor.loadResident). */
export interface ResidentLayer {
  layer: number;
  /** null: the block is dropped (its input passes through) */
  exec: ExecLayer | null;
  /** what replaced the checkpoint's layer (the caller's or the stored one), for accounting */
  override: LayerOverride | null;
  /** a stored (workbench-format) override read here, freed with the layer */
  stored: LayerOverride | null;
}

export function disposeResident(r: ResidentLayer): void {
  if (r.exec) disposeExecLayer(r.exec);
  if (r.stored?.moe) disposeMoeView(r.stored.moe);
}

/** Bytes of the tensors a resident layer holds (its exec weights; a stored view's tensors too). */
function residentBytes(r: ResidentLayer): number {
  let n = 0;
  for (const t of r.exec?.owned ?? []) n += t.size * 4;
  const v = r.stored?.moe;
  if (v) {
    n += v.router.size * 4;
    for (const e of v.experts) for (const L of [e.gate, e.up, e.down]) n += linearBytes(L);
  }
  return n;
}

function linearBytes(L: Linear): number {
  if (L.kind === 'dense' || L.kind === 'quantized') return L.w.size * 4;
  if (L.kind === 'factored') return (L.A.size + L.B.size) * 4;
  return (L.base.size + L.A.size + L.B.size) * 4;
}

interface KeptLayer {
  given: LayerOverride | undefined;
  resident: ResidentLayer;
  bytes: number;
}

export interface HeadWeights {
  norm: NormWeights;
  /** [h, V] */
  headT: Tensor2D;
  bias?: tf.Tensor1D;
  owned: tf.Tensor[];
}

export function disposeHead(h: HeadWeights): void {
  tf.dispose(h.owned);
  h.owned.length = 0;
}

/** Hidden states of B sequences of T tokens each, row b·T + t. */
export interface HiddenBatch {
  hidden: Tensor2D;
  batch: number;
  seqLen: number;
}

export class StreamingExecutor {
  readonly model: LoadedModel;
  private readonly opts: ExecutorOptions;
  private readonly ropeCache = new Map<number, RopeTables>();
  private readonly kept = new Map<number, KeptLayer>();
  private keptBytes = 0;

  constructor(model: LoadedModel, opts: ExecutorOptions = {}) {
    this.model = model;
    this.opts = opts;
  }

  /** Embedding lookup for B equal-length id sequences (ids checked against the vocabulary). */
  embed(seqs: ArrayLike<number>[]): HiddenBatch {
    const { spec, checkpoint } = this.model;
    const T = seqs[0]?.length ?? 0;
    if (seqs.length === 0 || T === 0) throw new EngineError('no tokens to run', { field: 'token ids' });
    if (seqs.some((s) => s.length !== T))
      throw new EngineError('all sequences of a batch must have the same length', { field: 'token ids' });
    const h = spec.hidden;
    const flat = new Int32Array(seqs.length * T);
    seqs.forEach((s, b) => {
      for (let t = 0; t < T; t++) {
        const id = s[t]!;
        if (!Number.isInteger(id) || id < 0 || id >= spec.vocab) {
          throw new EngineError(
            `token id ${id} at position ${t} is outside the vocabulary 0..${spec.vocab - 1}`,
            {
              field: 'token ids',
            },
          );
        }
        flat[b * T + t] = id;
      }
    });
    const out = readRows(checkpoint, globalNames(spec).embed, flat);
    return { hidden: tf.tensor2d(out, [seqs.length * T, h]), batch: seqs.length, seqLen: T };
  }

  private rope(T: number): RopeTables {
    let r = this.ropeCache.get(T);
    if (!r) {
      r = ropeTables(this.model.spec.rope, T);
      this.ropeCache.set(T, r);
    }
    return r;
  }

  private norm(x: Tensor2D, w: NormWeights): Tensor2D {
    const { kind, eps } = this.model.spec.norm;
    return kind === 'rms' ? rmsNorm(x, w.weight, eps) : layerNorm(x, w.weight, w.bias, eps);
  }

  private checkCancelled(): void {
    if (this.opts.signal?.aborted) throw new CancelledError();
  }

  /** Run decoder layer l on x (not consumed); returns the new hidden states (caller owns them). */
  async runLayer(
    l: number,
    x: HiddenBatch,
    observer: LayerObserver | undefined = this.opts.observer,
    run: { allExperts?: boolean; routerOnly?: boolean } = {},
  ): Promise<Tensor2D> {
    this.checkCancelled();
    if (run.routerOnly && (observer?.onExpert || observer?.onSharedExpert || observer?.onLayerOutput))
      throw new RangeError(
        'a router-only sweep runs no expert: its observer may not ask for expert or layer outputs',
      );
    const r = this.residentFor(l);
    try {
      return await this.runResident(r, x, {
        observer,
        allExperts: run.allExperts === true,
        routerOnly: run.routerOnly === true,
      });
    } finally {
      if (this.kept.get(l)?.resident !== r) disposeResident(r);
    }
  }

  /** Layer l, kept from an earlier call when its override is unchanged, else loaded (and kept if it fits). */
  private residentFor(l: number): ResidentLayer {
    const given = this.opts.overrides?.get(l);
    const hit = this.kept.get(l);
    if (hit && hit.given === given) return hit.resident;
    if (hit) {
      this.kept.delete(l);
      this.keptBytes -= hit.bytes;
      disposeResident(hit.resident);
    }
    const r = this.loadResident(l);
    const budget = this.opts.keepLayersBytes ?? 0;
    if (budget > 0) {
      const bytes = residentBytes(r);
      if (this.keptBytes + bytes <= budget) {
        this.kept.set(l, { given, resident: r, bytes });
        this.keptBytes += bytes;
      }
    }
    return r;
  }

  /**
   * Decoder layer l loaded for repeated use (decoding keeps every layer resident): the caller's
   * override, else what the checkpoint stores (plain, or a workbench view / dropped sub-layer or
   * block). Free with disposeResident.
   */
  loadResident(l: number): ResidentLayer {
    const given = this.opts.overrides?.get(l);
    const stored =
      given?.moe || given?.skipFfn || given?.skipBlock ? null : sourceLayerOverride(this.model, l);
    const override = stored ?? given;
    try {
      const expertBudgetBytes = this.opts.expertBudgetBytes ?? layerExpertBudgetBytes();
      const exec = override?.skipBlock ? null : loadExecLayer(this.model, l, override, { expertBudgetBytes });
      return { layer: l, exec, override: override ?? null, stored };
    } catch (e) {
      if (stored?.moe) disposeMoeView(stored.moe);
      throw e;
    }
  }

  /**
   * Run a resident layer on x (not consumed). With `kv`, x holds the tokens after the cached
   * positions: their keys/values are appended to the cache and attention reads all of them.
   */
  async runResident(
    r: ResidentLayer,
    x: HiddenBatch,
    run: { observer?: LayerObserver; allExperts?: boolean; kv?: LayerKv; routerOnly?: boolean } = {},
  ): Promise<Tensor2D> {
    this.checkCancelled();
    if (r.exec === null) return tf.clone(x.hidden);
    return this.runLoadedLayer(
      r.layer,
      r.exec,
      x,
      run.observer,
      run.allExperts === true,
      run.kv,
      run.routerOnly === true,
    );
  }

  private async runLoadedLayer(
    l: number,
    w: ExecLayer,
    x: HiddenBatch,
    obs: LayerObserver | undefined,
    allExperts: boolean,
    kv?: LayerKv,
    routerOnly = false,
  ): Promise<Tensor2D> {
    const { spec } = this.model;
    await obs?.onLayerInput?.({ layer: l, hidden: x.hidden, batch: x.batch, seqLen: x.seqLen });
    const xn = this.norm(x.hidden, w.inputNorm);
    // decoding: rows for the new positions, frequencies from the length so far (longrope)
    const rope = kv ? ropeTablesAt(spec.rope, kv.past + x.seqLen, kv.past, x.seqLen) : this.rope(x.seqLen);
    let a: Tensor2D;
    try {
      a = attention(xn, w.attn, spec.attention, rope, {
        batch: x.batch,
        seqLen: x.seqLen,
        window: spec.slidingWindow[l] ?? null,
        normEps: spec.norm.eps,
        scoreBudgetBytes: this.opts.scoreBudgetBytes ?? 64 * 2 ** 20,
        ...(kv ? { kv } : {}),
      });
    } finally {
      if (kv) tf.dispose([rope.cos, rope.sin]);
    }
    xn.dispose();
    try {
      await obs?.onAttentionOutput?.({ layer: l, output: a });
    } catch (e) {
      a.dispose();
      throw e;
    }
    const h1 = tf.add(x.hidden, a) as Tensor2D;
    a.dispose();
    if (w.ffn.kind === 'none') {
      try {
        await obs?.onLayerOutput?.({ layer: l, hidden: h1 });
      } catch (e) {
        h1.dispose();
        throw e;
      }
      return h1;
    }
    const rows = h1.shape[0];
    const chunk = this.opts.tokenChunk ?? 1024;
    const parts: Tensor2D[] = [];
    try {
      const src = rows <= chunk ? null : new HostRows(h1);
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        this.checkCancelled();
        const n = Math.min(chunk, rows - r0);
        const hc = src ? src.block(r0, n) : h1;
        const hn = this.norm(hc, w.postNorm!);
        try {
          const y =
            w.ffn.kind === 'dense'
              ? gatedMlp(hn, w.ffn.mlp, false).out
              : await moeBlock(hn, w.ffn.moe, l, r0, obs, allExperts, routerOnly);
          parts.push(tf.add(hc, y) as Tensor2D);
          y.dispose();
        } finally {
          tf.dispose(hc === h1 ? [hn] : [hc, hn]);
        }
      }
    } catch (e) {
      tf.dispose([h1, ...parts]);
      throw e;
    }
    h1.dispose();
    const out = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as Tensor2D);
    if (parts.length > 1) tf.dispose(parts);
    try {
      await obs?.onLayerOutput?.({ layer: l, hidden: out });
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }

  /** All decoder layers; the input batch is consumed. */
  async forward(x: HiddenBatch): Promise<HiddenBatch> {
    let cur = x;
    for (let l = 0; l < this.model.spec.layers; l++) {
      let next: Tensor2D;
      try {
        next = await this.runLayer(l, cur);
      } catch (e) {
        cur.hidden.dispose();
        throw e;
      }
      cur.hidden.dispose();
      cur = { ...cur, hidden: next };
      this.opts.onLayerDone?.(l, this.model.spec.layers);
    }
    return cur;
  }

  /**
   * Final norm + lm_head in row chunks sized so one [rows, V] logits block fits the budget; the
   * callback gets each block (disposed after it returns). Full logits never exist at once.
   */
  async logitsChunks(
    hidden: Tensor2D,
    cb: (rowStart: number, logits: Tensor2D) => void | Promise<void>,
    head?: HeadWeights,
  ): Promise<void> {
    const { spec } = this.model;
    const w = head ?? this.loadHead();
    try {
      const rows = hidden.shape[0];
      const chunk = Math.max(1, Math.floor((this.opts.logitsBudgetBytes ?? 64 * 2 ** 20) / (4 * spec.vocab)));
      const src = rows <= chunk ? null : new HostRows(hidden);
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        this.checkCancelled();
        const m = Math.min(chunk, rows - r0);
        const logits = tf.tidy(() => {
          const hn = this.norm(src ? src.block(r0, m) : hidden, w.norm);
          const z = tf.matMul(hn, w.headT);
          return (w.bias ? tf.add(z, w.bias) : z) as Tensor2D;
        });
        try {
          await cb(r0, logits);
        } finally {
          logits.dispose();
        }
      }
    } finally {
      if (!head) disposeHead(w);
    }
  }

  /** Final norm and lm_head, read once (decoding keeps them; logitsChunks reads them per call otherwise). */
  loadHead(): HeadWeights {
    const { spec, checkpoint: ck } = this.model;
    const n = globalNames(spec);
    const owned: tf.Tensor[] = [];
    const take = <T extends tf.Tensor>(t: tf.Tensor) => {
      owned.push(t);
      return t as T;
    };
    try {
      const norm: NormWeights = { weight: take<tf.Tensor1D>(ck.readTensor(n.finalNorm.weight)) };
      if (spec.norm.kind === 'layer') norm.bias = take<tf.Tensor1D>(ck.readTensor(n.finalNorm.bias));
      const headT = take<Tensor2D>(
        ck.readTensor(spec.tieEmbeddings ? n.embed : n.lmHead.weight, { transpose: true }),
      );
      const head: HeadWeights = { norm, headT, owned };
      if (spec.lmHeadBias) head.bias = take<tf.Tensor1D>(ck.readTensor(n.lmHead.bias));
      return head;
    } catch (e) {
      tf.dispose(owned);
      throw e;
    }
  }

  /** Free cached RoPE tables and kept layers. */
  dispose(): void {
    for (const r of this.ropeCache.values()) tf.dispose([r.cos, r.sin]);
    this.ropeCache.clear();
    for (const k of this.kept.values()) disposeResident(k.resident);
    this.kept.clear();
    this.keptBytes = 0;
  }
}
