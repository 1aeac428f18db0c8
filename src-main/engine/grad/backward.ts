// Layer-streamed backward pass of the causal-LM loss (reusable by any gradient-based statistic).
//
// Forward sweep: the calibration sequences run through the current model with the streaming
// executor (overrides = the model as the pipeline left it); every layer's input and the final hidden
// states are kept per sequence in a BoundaryStore (memory up to a budget, then a temp folder).
// Backward sweep, from the head down: per sequence the loss gradient w.r.t. the final hidden states
// comes from the head (final norm + lm_head, autograd) and the analytic softmax-CE gradient; then one
// decoder layer at a time is loaded, its forward is recomputed from the stored input with tfjs
// autograd (grad/layer-forward.ts, the executor's own block functions) and the vector-Jacobian
// product gives the gradient w.r.t. the layer input (handed to the layer below) and w.r.t. the
// parameters the caller asks for. Peak memory ≈ one layer (+ its parameter gradients) + the boundary
// activations; each sequence is its own backward, so callers get per-sequence gradients (Fisher).
//
// Loss: mean over the predicted positions of one sequence of −log softmax(logits_t)[label_t].
// 'next-token' (default): input = ids, label_t = ids[t+1]. 'reference' reproduces D²-MoE's
// get_fisher.py, which feeds ids[:-1] as input and ids[1:] as labels to a Hugging Face causal LM that
// shifts the labels again: input = ids[:-1], label_t = ids[t+2] (METHODS §3.1 PITFALL).
import { CancelledError, EngineError } from '../errors';
import { type RopeTables, ropeTables } from '../model/blocks/rope';
import { StreamingExecutor } from '../model/executor';
import {
  disposeExecLayer,
  disposeMoeView,
  type ExecLayer,
  loadExecLayer,
  type NormWeights,
} from '../model/layer-weights';
import type { LoadedModel } from '../model/model';
import { sourceLayerOverride } from '../model/source-layer';
import { globalNames } from '../model/tensor-names';
import type { LayerOverride, Tensor2D } from '../model/types';
import { tf } from '../tensor/backend';
import { BoundaryStore } from './boundary-store';
import { registerEngineGradients } from './gradients';
import { layerForward, normOf } from './layer-forward';

export type LossShift = 'next-token' | 'reference';

export interface StreamedBackwardOptions {
  model: LoadedModel;
  overrides?: ReadonlyMap<number, LayerOverride>;
  sequences: readonly (readonly number[])[];
  /** sequences per forward batch of the forward sweep (default 4) */
  batch?: number;
  shift?: LossShift;
  /** bytes of boundary activations held in memory before spilling to disk (default 1 GiB) */
  memoryBudgetBytes?: number;
  tempDir?: string;
  tokenChunk?: number;
  scoreBudgetBytes?: number;
  logitsBudgetBytes?: number;
  signal?: AbortSignal;
  /** the tensors of loaded layer l to differentiate (besides its input); default none */
  parameters?(l: number, layer: ExecLayer): tf.Tensor[];
  /**
   * Gradients of sequence `seq`'s loss w.r.t. `parameters(l)`, in that order (undefined for a tensor
   * the sequence does not reach, e.g. an expert none of its tokens is routed to). Disposed after return.
   */
  onGradients?(l: number, seq: number, grads: (tf.Tensor | undefined)[]): void;
  /** called when layer l's backward is done (all sequences) */
  onLayer?(l: number): void | Promise<void>;
}

export interface StreamedBackwardResult {
  /** mean over sequences of the per-sequence mean loss */
  loss: number;
  losses: number[];
  /** predicted positions per sequence */
  predicted: number[];
  forwardSeconds: number;
  backwardSeconds: number;
  /** largest bytes of boundary activations held in memory, and bytes written to disk */
  boundaryMemoryBytes: number;
  spilledBytes: number;
}

/** Model input and labels of one sequence under the loss convention. */
export function lossInputs(ids: readonly number[], shift: LossShift): { input: number[]; labels: number[] } {
  const off = shift === 'reference' ? 2 : 1;
  const input = shift === 'reference' ? ids.slice(0, -1) : ids.slice();
  const labels: number[] = [];
  for (let t = 0; t + off < ids.length; t++) labels.push(ids[t + off]!);
  return { input, labels };
}

interface Head {
  norm: NormWeights;
  headT: Tensor2D;
  bias?: tf.Tensor1D;
  owned: tf.Tensor[];
}

function loadHead(model: LoadedModel): Head {
  const { spec, checkpoint: ck } = model;
  const n = globalNames(spec);
  const owned: tf.Tensor[] = [];
  const norm: NormWeights = { weight: ck.readTensor(n.finalNorm.weight) as tf.Tensor1D };
  owned.push(norm.weight);
  if (spec.norm.kind === 'layer') {
    norm.bias = ck.readTensor(n.finalNorm.bias) as tf.Tensor1D;
    owned.push(norm.bias);
  }
  const headT = ck.readTensor(spec.tieEmbeddings ? n.embed : n.lmHead.weight, {
    transpose: true,
  }) as Tensor2D;
  owned.push(headT);
  const head: Head = { norm, headT, owned };
  if (spec.lmHeadBias) {
    head.bias = ck.readTensor(n.lmHead.bias) as tf.Tensor1D;
    owned.push(head.bias);
  }
  return head;
}

/**
 * Loss of one sequence from its final hidden states [T, h] and dL/dh (autograd through final norm and
 * lm_head, analytic softmax-CE gradient), in row chunks bounded by the logits budget.
 */
function headBackward(
  model: LoadedModel,
  head: Head,
  hidden: Float32Array,
  T: number,
  labels: readonly number[],
  logitsBudgetBytes: number,
): { loss: number; grad: Float32Array } {
  const { spec } = model;
  const h = spec.hidden;
  const V = spec.vocab;
  const count = labels.length;
  const grad = new Float32Array(T * h);
  let nll = 0;
  const chunk = Math.max(1, Math.floor(logitsBudgetBytes / (4 * V)));
  for (let r0 = 0; r0 < T; r0 += chunk) {
    const m = Math.min(chunk, T - r0);
    const x = tf.tensor2d(hidden.subarray(r0 * h, (r0 + m) * h), [m, h]);
    try {
      const f = () => {
        const z = tf.matMul(normOf(spec, x, head.norm), head.headT);
        return (head.bias ? tf.add(z, head.bias) : z) as Tensor2D;
      };
      const logits = tf.tidy(f);
      const l = logits.dataSync() as Float32Array;
      logits.dispose();
      const d = new Float32Array(m * V);
      for (let i = 0; i < m; i++) {
        const t = r0 + i;
        if (t >= count) continue;
        const o = i * V;
        let mx = Number.NEGATIVE_INFINITY;
        for (let v = 0; v < V; v++) mx = Math.max(mx, l[o + v]!);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(l[o + v]! - mx);
        const lse = mx + Math.log(s);
        const y = labels[t]!;
        nll += lse - l[o + y]!;
        for (let v = 0; v < V; v++) d[o + v] = Math.exp(l[o + v]! - lse) / count;
        d[o + y]! -= 1 / count;
      }
      if (r0 >= count) continue;
      const dy = tf.tensor2d(d, [m, V]);
      try {
        const { value, grads } = tf.engine().gradients(f, [x], dy, true);
        const g = grads[0]!;
        grad.set(g.dataSync() as Float32Array, r0 * h);
        tf.dispose([value, g]);
      } finally {
        dy.dispose();
      }
    } finally {
      x.dispose();
    }
  }
  return { loss: count > 0 ? nll / count : 0, grad };
}

/** The layer as the executor would run it: the caller's override, else the checkpoint's stored view. */
function loadLayerFor(
  model: LoadedModel,
  l: number,
  overrides: ReadonlyMap<number, LayerOverride> | undefined,
): { layer: ExecLayer | null; release: () => void } {
  const given = overrides?.get(l);
  const stored = given?.moe || given?.skipFfn || given?.skipBlock ? null : sourceLayerOverride(model, l);
  const override = stored ?? given;
  const free = () => {
    if (stored?.moe) disposeMoeView(stored.moe);
  };
  if (override?.skipBlock) return { layer: null, release: free };
  try {
    const w = loadExecLayer(model, l, override);
    return {
      layer: w,
      release: () => {
        disposeExecLayer(w);
        free();
      },
    };
  } catch (e) {
    free();
    throw e;
  }
}

export async function streamedBackward(o: StreamedBackwardOptions): Promise<StreamedBackwardResult> {
  registerEngineGradients();
  const { model } = o;
  const { spec } = model;
  const L = spec.layers;
  const h = spec.hidden;
  const shift = o.shift ?? 'next-token';
  const tokenChunk = o.tokenChunk ?? 1024;
  const scoreBudgetBytes = o.scoreBudgetBytes ?? 64 * 2 ** 20;
  const logitsBudgetBytes = o.logitsBudgetBytes ?? 64 * 2 ** 20;
  const checkCancel = () => {
    if (o.signal?.aborted) throw new CancelledError();
  };
  const items = o.sequences.map((ids) => lossInputs(ids, shift));
  items.forEach((it, i) => {
    if (it.labels.length === 0)
      throw new EngineError(
        `calibration sequence ${i} has ${o.sequences[i]!.length} tokens: too short for the loss`,
        {
          field: 'calibration.seqLen',
        },
      );
  });
  const store = new BoundaryStore({
    ...(o.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: o.memoryBudgetBytes } : {}),
    ...(o.tempDir !== undefined ? { tempDir: o.tempDir } : {}),
  });
  const key = (l: number, s: number) => `${l}:${s}`;
  const ropeCache = new Map<number, RopeTables>();
  const rope = (T: number) => {
    let r = ropeCache.get(T);
    if (!r) {
      r = ropeTables(spec.rope, T);
      ropeCache.set(T, r);
    }
    return r;
  };
  const exec = new StreamingExecutor(model, {
    ...(o.overrides ? { overrides: o.overrides } : {}),
    tokenChunk,
    scoreBudgetBytes,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const t0 = performance.now();
  try {
    // ---- forward sweep: store every layer's input per sequence ----
    const bsz = Math.max(1, o.batch ?? 4);
    for (let i = 0; i < items.length; ) {
      const T = items[i]!.input.length;
      let j = i;
      while (j < items.length && j - i < bsz && items[j]!.input.length === T) j++;
      let x = exec.embed(items.slice(i, j).map((it) => it.input));
      try {
        for (let l = 0; l <= L; l++) {
          checkCancel();
          const data = x.hidden.dataSync() as Float32Array;
          for (let s = i; s < j; s++) store.put(key(l, s), data.slice((s - i) * T * h, (s - i + 1) * T * h));
          if (l === L) break;
          const y = await exec.runLayer(l, x, {});
          x.hidden.dispose();
          x = { ...x, hidden: y };
        }
      } finally {
        x.hidden.dispose();
      }
      i = j;
    }
    const forwardSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();

    // ---- head: loss and dL/dh_L per sequence ----
    const grads: Float32Array[] = new Array(items.length);
    const losses: number[] = [];
    const head = loadHead(model);
    try {
      items.forEach((it, s) => {
        checkCancel();
        const r = headBackward(
          model,
          head,
          store.take(key(L, s)),
          it.input.length,
          it.labels,
          logitsBudgetBytes,
        );
        losses.push(r.loss);
        grads[s] = r.grad;
      });
    } finally {
      tf.dispose(head.owned);
    }

    // ---- backward sweep: one layer at a time, from the top ----
    for (let l = L - 1; l >= 0; l--) {
      checkCancel();
      const { layer, release } = loadLayerFor(model, l, o.overrides);
      try {
        const params = layer ? (o.parameters?.(l, layer) ?? []) : [];
        for (let s = 0; s < items.length; s++) {
          checkCancel();
          const T = items[s]!.input.length;
          const input = store.take(key(l, s));
          if (!layer) continue; // a dropped block is the identity: the gradient passes through
          const x = tf.tensor2d(input, [T, h]);
          const dy = tf.tensor2d(grads[s]!, [T, h]);
          try {
            const shape = {
              batch: 1,
              seqLen: T,
              window: spec.slidingWindow[l] ?? null,
              rope: rope(T),
              tokenChunk,
              scoreBudgetBytes,
            };
            const { value, grads: g } = tf
              .engine()
              .gradients(() => layerForward(spec, layer, x, shape), [x, ...params], dy, true);
            try {
              grads[s] = g[0]!.dataSync() as Float32Array;
              o.onGradients?.(l, s, g.slice(1));
            } finally {
              tf.dispose([value, ...g.filter((t): t is tf.Tensor => t !== undefined)]);
            }
          } finally {
            tf.dispose([x, dy]);
          }
        }
      } finally {
        release();
      }
      await o.onLayer?.(l);
    }
    const loss = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
    return {
      loss,
      losses,
      predicted: items.map((it) => it.labels.length),
      forwardSeconds,
      backwardSeconds: (performance.now() - t1) / 1000,
      boundaryMemoryBytes: store.peakMemoryBytes,
      spilledBytes: store.spilledBytes,
    };
  } finally {
    store.dispose();
    exec.dispose();
    for (const r of ropeCache.values()) tf.dispose([r.cos, r.sin]);
  }
}
