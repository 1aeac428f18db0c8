// Similarity between the experts of one layer (METHODS §2.6 step 1) and the routing frequency used to
// pick dominant experts (§2.6 step 2: top-k activation frequency on the CURRENT model). All products
// are Gram matrices on the backend (tf.matMul of stacked vectors); only N×N results come to the host,
// where cosine / L2 follow in f64 (cos_ij = G_ij/√(G_ii G_jj), L2_ij = √(G_ii + G_jj − 2 G_ij)).
//
// * weight: per projection, each expert's flattened matrix (factored: flattened A and B concatenated;
//   delta: its A and B, the shared base is common to all) → Gram of the stacked vectors, in blocks of
//   experts so that a block holds at most `maxFloats` values; cosine / L2 averaged over gate/up/down.
// * router_logits: per calibration batch, the Gram of the [tokens, N] logits (Σ over token chunks of
//   LᵀL) → cosine / L2 between the experts' columns; averaged over batches.
// * output: per batch, expert e's vector is the [tokens × h] matrix holding w·E(x) on the rows routed to
//   e and 0 elsewhere, flattened, mean-subtracted and L2-normalised. With D = tokens·h, s_e the sum of
//   its entries and G the Gram of the raw vectors, the centred Gram is G_ij − s_i s_j / D, so the
//   cosine of the normalised vectors is that over √(centred G_ii · centred G_jj) and their L2 distance
//   √(ν_i + ν_j − 2 cos_ij) (ν = 1, or 0 for an expert no token of the batch reaches: its normalised
//   vector is 0). G never materialises the [N, tokens·h] matrix: two experts' vectors overlap only on
//   tokens routed to both, so per token chunk the k routed outputs of each token are put in top-k
//   slot order O [n, k, h] (a gather computed from the one-hot routing), g_t = O_t O_tᵀ [k, k] is a
//   batched matMul, and G = Σ_t H_tᵀ g_t H_t with H the one-hot [n, k, N] routing — O(n·k²·h) work.
//   Averaged over batches.
// * mean outputs (HC-SMoE features): Σ E(x) over each expert's routed tokens (before the routing
//   weight) / its token count; an expert no token reaches has the zero vector.
import type {
  ExpertEvent,
  ExpertWeights,
  LayerObserver,
  Linear,
  RouterEvent,
  Tensor2D,
} from '../../model/types';
import { tf } from '../../tensor/backend';
import { matMulT } from '../../tensor/mat-mul-transposed';
import { fromGram, type SimilarityMatrix, type SimilarityMetric } from './grouping';

const PROJ = ['gate', 'up', 'down'] as const;

/** cosine and L2 of one Gram matrix together */
export interface BothMetrics {
  cosine: number[][];
  l2: number[][];
}

/** Values of a tensor computed in a tidy scope; the tensor is freed. */
export function readback(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

const zeros = (n: number) => Array.from({ length: n }, () => new Array<number>(n).fill(0));

function addInto(acc: number[][], m: readonly (readonly number[])[], scale = 1): void {
  for (let i = 0; i < acc.length; i++) for (let j = 0; j < acc.length; j++) acc[i]![j]! += m[i]![j]! * scale;
}

function linearVector(L: Linear): tf.Tensor1D {
  switch (L.kind) {
    case 'dense':
    case 'quantized':
      return tf.reshape(L.w, [-1]) as tf.Tensor1D;
    case 'factored':
    case 'delta':
      return tf.concat([tf.reshape(L.A, [-1]), tf.reshape(L.B, [-1])]) as tf.Tensor1D;
  }
}

/** Gram matrix (f64 on the host) of the vectors vec(0..n−1), stacked in blocks of ≤ maxFloats values. */
export function blockGram(n: number, vec: (i: number) => tf.Tensor1D, maxFloats = 2 ** 24): number[][] {
  const G = zeros(n);
  if (n === 0) return G;
  const len = tf.tidy(() => vec(0).size);
  const B = Math.max(1, Math.floor(maxFloats / Math.max(1, len)));
  const stack = (i0: number) =>
    tf.tidy(() => tf.stack(Array.from({ length: Math.min(B, n - i0) }, (_, i) => vec(i0 + i)))) as Tensor2D;
  for (let i0 = 0; i0 < n; i0 += B) {
    const Si = stack(i0);
    try {
      for (let j0 = i0; j0 < n; j0 += B) {
        const Sj = j0 === i0 ? Si : stack(j0);
        try {
          const blk = readback(() => matMulT(Si, Sj, false, true));
          const bi = Si.shape[0];
          const bj = Sj.shape[0];
          for (let a = 0; a < bi; a++)
            for (let b = 0; b < bj; b++) {
              const v = blk[a * bj + b]!;
              G[i0 + a]![j0 + b] = v;
              G[j0 + b]![i0 + a] = v;
            }
        } finally {
          if (Sj !== Si) Sj.dispose();
        }
      }
    } finally {
      Si.dispose();
    }
  }
  return G;
}

/** Weight similarity of a layer's routed experts: cosine and L2 per projection, averaged over the three. */
export function weightSimilarity(experts: readonly ExpertWeights[], maxFloats?: number): BothMetrics {
  const n = experts.length;
  const out: BothMetrics = { cosine: zeros(n), l2: zeros(n) };
  for (const p of PROJ) {
    const G = blockGram(n, (e) => linearVector(experts[e]![p]), maxFloats);
    addInto(out.cosine, fromGram(G, 'cosine'), 1 / PROJ.length);
    addInto(out.l2, fromGram(G, 'l2'), 1 / PROJ.length);
  }
  return out;
}

export function pick(m: BothMetrics, metric: SimilarityMetric): SimilarityMatrix {
  return { metric, values: metric === 'cosine' ? m.cosine : m.l2 };
}

export interface MergeNeeds {
  routerLogits?: boolean;
  output?: boolean;
  meanOutputs?: boolean;
}

export interface MergeLayerStats {
  /** top-k selections of each expert / all selections of the layer (Σ = 1; all 0 without tokens) */
  frequency: number[];
  /** routed tokens per expert */
  tokens: number[];
  batches: number;
  routerLogits?: BothMetrics;
  output?: BothMetrics;
  /** [N][h] mean expert output over its routed tokens (f64) */
  meanOutputs?: Float64Array[];
  /** seconds spent in the similarity-specific work of the sweep (Grams, read-backs, finalisation) */
  seconds: number;
}

interface Chunk {
  r0: number;
  k: number;
  experts: Int32Array;
  parts: { expert: number; v: Tensor2D }[];
}

/** Observer of one layer's sweep collecting the frequency and the requested similarity statistics. */
export class MergeStatsCollector {
  private readonly count: Float64Array;
  private readonly tokenCount: Float64Array;
  private rowsInBatch = 0;
  private batches = 0;
  private chunk: Chunk | null = null;
  private routerG: number[][] | null = null;
  private outG: number[][] | null = null;
  private outS: Float64Array | null = null;
  private readonly routerSum: BothMetrics;
  private readonly outSum: BothMetrics;
  private readonly outputSums: Float64Array[] | null;
  private seconds = 0;

  constructor(
    readonly layer: number,
    readonly experts: number,
    readonly hidden: number,
    readonly needs: MergeNeeds,
  ) {
    this.count = new Float64Array(experts);
    this.tokenCount = new Float64Array(experts);
    this.routerSum = { cosine: zeros(experts), l2: zeros(experts) };
    this.outSum = { cosine: zeros(experts), l2: zeros(experts) };
    this.outputSums = needs.meanOutputs
      ? Array.from({ length: experts }, () => new Float64Array(hidden))
      : null;
  }

  private timed<T>(f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
    }
  }

  private startBatch(rows: number): void {
    this.rowsInBatch = rows;
    if (this.needs.routerLogits) this.routerG = zeros(this.experts);
    if (this.needs.output) {
      this.outG = zeros(this.experts);
      this.outS = new Float64Array(this.experts);
    }
  }

  private onRouter(e: RouterEvent): void {
    for (const x of e.experts) this.count[x]! += 1;
    if (this.needs.routerLogits && this.routerG)
      this.timed(() => {
        const g = readback(() => matMulT(e.logits, e.logits, true, false));
        const N = this.experts;
        for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) this.routerG![i]![j]! += g[i * N + j]!;
      });
    if (this.needs.output) {
      this.timed(() => this.flushChunk());
      this.chunk = { r0: e.rowStart, k: e.topK, experts: e.experts.slice(), parts: [] };
    }
  }

  private onExpert(e: ExpertEvent): void {
    if (e.allTokens) return;
    const m = e.rows.length;
    if (m === 0) return;
    this.tokenCount[e.expert]! += m;
    if (this.outputSums)
      this.timed(() => {
        const s = readback(() => tf.sum(e.output, 0));
        const acc = this.outputSums![e.expert]!;
        for (let j = 0; j < this.hidden; j++) acc[j]! += s[j]!;
      });
    if (this.needs.output && this.chunk)
      this.timed(() => {
        const w = tf.tensor2d(e.weights, [m, 1]);
        const v = tf.mul(e.output, w) as Tensor2D;
        w.dispose();
        this.chunk!.parts.push({ expert: e.expert, v });
      });
  }

  /** Adds the chunk's routed-output Gram and entry sums to the batch's. */
  private flushChunk(): void {
    const c = this.chunk;
    if (!c) return;
    this.chunk = null;
    const parts = c.parts.sort((a, b) => a.expert - b.expert);
    try {
      const nk = c.experts.length;
      if (nk === 0 || !this.outG || !this.outS) return;
      const rows = parts.reduce((a, p) => a + p.v.shape[0], 0);
      if (rows !== nk)
        throw new Error(
          `expert-merge: ${rows} routed rows for ${nk} top-k slots (layer ${this.layer}, row ${c.r0})`,
        );
      const N = this.experts;
      const k = c.k;
      const n = nk / k;
      const h = this.hidden;
      const [G, s] = tf.tidy(() => {
        const H = tf.cast(tf.oneHot(tf.tensor1d(c.experts, 'int32'), N), 'float32') as Tensor2D; // [nk, N]
        // slot s = t·k + a holds the a-th expert of token t; the parts are in (expert, token) order,
        // so slot s sits at offset(e_s) + (rank of s among the slots of e_s)
        const within = tf.sub(tf.cumsum(H, 0), 1);
        const offsets = tf.cumsum(tf.sum(H, 0), 0, true);
        const pos = tf.cast(tf.sum(tf.mul(H, tf.add(within, offsets)), 1), 'int32');
        const V =
          parts.length === 1
            ? parts[0]!.v
            : tf.concat(
                parts.map((p) => p.v),
                0,
              );
        const O = tf.gather(V, pos) as Tensor2D; // [nk, h] slot order
        const O3 = tf.reshape(O, [n, k, h]) as tf.Tensor3D;
        const g = matMulT(O3, O3, false, true); // [n, k, k]
        const K = tf.matMul(g, tf.reshape(H, [n, k, N]) as tf.Tensor3D); // [n, k, N]
        const Gc = matMulT(H, tf.reshape(K, [nk, N]) as Tensor2D, true, false); // [N, N]
        const sc = matMulT(H, tf.sum(O, 1, true) as Tensor2D, true, false); // [N, 1]
        return [Gc, sc];
      });
      const gd = G!.dataSync();
      const sd = s!.dataSync();
      tf.dispose([G!, s!]);
      for (let i = 0; i < N; i++) {
        this.outS[i]! += sd[i]!;
        for (let j = 0; j < N; j++) this.outG[i]![j]! += gd[i * N + j]!;
      }
    } finally {
      tf.dispose(parts.map((p) => p.v));
    }
  }

  private endBatch(): void {
    this.timed(() => {
      this.flushChunk();
      const N = this.experts;
      if (this.routerG) {
        addInto(this.routerSum.cosine, fromGram(this.routerG, 'cosine'));
        addInto(this.routerSum.l2, fromGram(this.routerG, 'l2'));
        this.routerG = null;
      }
      if (this.outG && this.outS) {
        const D = this.rowsInBatch * this.hidden;
        const s = this.outS;
        const C = this.outG.map((row, i) => row.map((g, j) => g - (s[i]! * s[j]!) / D));
        const nu = C.map((row, i) => (row[i]! > 0 ? 1 : 0));
        const cos = fromGram(C, 'cosine');
        for (let i = 0; i < N; i++)
          for (let j = 0; j < N; j++) {
            const c = i === j ? nu[i]! : cos[i]![j]!;
            this.outSum.cosine[i]![j]! += c;
            this.outSum.l2[i]![j]! += i === j ? 0 : Math.sqrt(Math.max(0, nu[i]! + nu[j]! - 2 * c));
          }
        this.outG = null;
        this.outS = null;
      }
    });
    this.batches++;
  }

  observer(): LayerObserver {
    const o: LayerObserver = {
      onLayerInput: (e) => this.startBatch(e.hidden.shape[0]),
      onRouter: (e) => this.onRouter(e),
      onLayerOutput: () => this.endBatch(),
    };
    if (this.needs.output || this.needs.meanOutputs) o.onExpert = (e) => this.onExpert(e);
    return o;
  }

  result(): MergeLayerStats {
    if (this.chunk) tf.dispose(this.chunk.parts.map((p) => p.v));
    this.chunk = null;
    const total = this.count.reduce((a, b) => a + b, 0);
    const b = this.batches;
    const avg = (m: BothMetrics): BothMetrics => ({
      cosine: m.cosine.map((r) => r.map((v) => (b > 0 ? v / b : 0))),
      l2: m.l2.map((r) => r.map((v) => (b > 0 ? v / b : 0))),
    });
    const out: MergeLayerStats = {
      frequency: Array.from(this.count, (c) => (total > 0 ? c / total : 0)),
      tokens: Array.from(this.tokenCount),
      batches: b,
      seconds: this.seconds,
    };
    if (this.needs.routerLogits) out.routerLogits = avg(this.routerSum);
    if (this.needs.output) out.output = avg(this.outSum);
    if (this.outputSums)
      out.meanOutputs = this.outputSums.map((s, e) => {
        const c = this.tokenCount[e]!;
        return c > 0 ? s.map((v) => v / c) : new Float64Array(this.hidden);
      });
    return out;
  }
}

/** Similarity of vectors given as rows (f64 in, Gram on the backend). */
export function vectorSimilarity(rows: readonly Float64Array[]): BothMetrics {
  const n = rows.length;
  const G = blockGram(n, (i) => tf.tensor1d(Float32Array.from(rows[i]!)));
  return { cosine: fromGram(G, 'cosine'), l2: fromGram(G, 'l2') };
}
