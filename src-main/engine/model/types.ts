// Shared engine types: the normalised model spec every adapter produces, the uniform "MoE layer"
// view compression methods work on, and the executor's observer interface.
import type { QuantizedWeight } from '../methods/quant/quantized-weight';
import type { SlimPattern } from '../methods/slim/accounting';
import type { tf } from '../tensor/backend';

export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;

/**
 * A linear map y = W x (+ b) in HF layout. Dense: `w` is [out, in]. Factored: W ≈ A·B with
 * A [out, r] and B [r, in]. Experts that share one B (MoE-SVD V-sharing, D²-MoE shared V) hold the
 * *same tensor object*; the executor detects that and applies B once per token per layer.
 */
export type Linear =
  /**
   * `sparse` is set by a slimming step (S): w holds the zeros in place, the tag says how the
   * weight-bytes accounting stores it (kept values + pattern index, methods/slim/accounting.ts).
   */
  | { kind: 'dense'; w: Tensor2D; bias?: Tensor1D; sparse?: SparseTag }
  | { kind: 'factored'; A: Tensor2D; B: Tensor2D; bias?: Tensor1D }
  /** W = base + A·B: a shared base weight plus a per-expert low-rank delta (D²-MoE). */
  | { kind: 'delta'; base: Tensor2D; A: Tensor2D; B: Tensor2D }
  /**
   * A quantized matrix (Q steps): `w` [out, in] is the exact dequantization s·(q − z) the forward pass
   * uses, `q` the integer codes, scales, zero points and g_idx the export writes.
   */
  | { kind: 'quantized'; w: Tensor2D; q: QuantizedWeight; bias?: Tensor1D };

/** How a slimmed dense matrix is stored: its pattern and the positions the step zeroed. */
export interface SparseTag {
  pattern: SlimPattern;
  /** entries set to zero by the step (the stored values are rows·cols − pruned) */
  pruned: number;
}

/** One gated MLP: down(silu(gate(x)) * up(x)). */
export interface ExpertWeights {
  gate: Linear;
  up: Linear;
  down: Linear;
}

export type RoutingSpec =
  /** softmax over all router logits (f32), top-k; optionally renormalise the k weights. */
  | { kind: 'softmax-topk'; topK: number; normTopK: boolean; normEps: number }
  /** Phi-3.5-MoE sparsemixer, inference mode (top-2, no jitter noise). */
  | { kind: 'sparsemixer'; topK: 2; jitterEps: number };

export interface SharedExpertView extends ExpertWeights {
  /** Qwen2-MoE: output scaled by sigmoid(x · gateWeight^T); gateWeight is [1, h]. */
  gateWeight?: Tensor2D;
  /** slimming tag of gateWeight (S steps with includeRouter) */
  gateSparse?: SparseTag;
}

/**
 * The uniform MoE layer view compression methods read and write. All tensors are HF layout.
 * `experts[e] === null` marks a dropped expert (its router row must be removed too, or the
 * router must be sliced consistently — methods usually rebuild `router` with fewer rows).
 */
export interface MoeLayerView {
  layer: number;
  /** [N, h] router weight; row e scores experts[e]. */
  router: Tensor2D;
  routerBias?: Tensor1D;
  /** slimming tag of the router (S steps with includeRouter; dropped when rows are sliced) */
  routerSparse?: SparseTag;
  experts: ExpertWeights[];
  shared?: SharedExpertView;
  routing: RoutingSpec;
  /**
   * Original expert indices each routed expert came from ([e] for a kept expert, the members of its
   * group after merging). Absent = experts are the checkpoint's, in order.
   */
  sources?: number[][];
  /** D²-MoE semi-dynamic base pruning (METHODS §3.5): what the executor prunes per inference batch. */
  dynamicPrune?: DynamicPrune;
}

/**
 * The dynamic half of D²-MoE's base pruning, decided per token chunk the MoE block sees (one forward
 * batch up to the executor's `tokenChunk` rows): the `remove` lowest-scoring intermediate channels are
 * dropped from every expert of the layer for that chunk — the base columns of down and the matching
 * columns of the down delta's B, so the pruned channel contributes nothing (§3.5 code step 6).
 *   'wanda' (paper, normative): C_j = ‖W_b2[:, j]‖₂ · ‖X[j, :]‖₂, X = the chunk's intermediates of
 *           every routed (token, expert) pair; one channel set for the layer.
 *   'probe' (Probe Pruning, the reference code): per expert, probe = the top max(⌈t/2⌉, 2) of its t
 *           routed tokens by input L2 norm; q_j = ‖z_probe[:, j]‖² / n_probe of its real intermediate,
 *           c_j = (1 − α) g_j + α q_j (α fixed, or adaptive q/(q + g + 1e-6)),
 *           s_j = c_j · sqrt(Σ_i W_eff2[i, j]⁴), W_eff2 = W_b2 + ΔU_2 ΔV_2; one channel set per expert.
 */
export interface DynamicPrune {
  /** channels dropped per chunk, of the layer's stored intermediate width */
  remove: number;
  score: 'wanda' | 'probe';
  /** probe: α ∈ [0, 1] or 'adaptive' */
  alpha?: number | 'adaptive';
  /** probe: calibration mean squared activation per token of each stored channel, g_j */
  calibration?: Float32Array;
}

/** Per-layer replacement the compression runner installs; the executor uses it instead of the checkpoint. */
export interface LayerOverride {
  /** Replacement MoE block (routed experts, router, shared expert). Owned by the caller. */
  moe?: MoeLayerView;
  /** Drop the MoE/MLP sub-layer entirely (residual passes through): Unified "Layer Drop". */
  skipFfn?: boolean;
  /** Drop the whole decoder block: Unified "Block Drop". */
  skipBlock?: boolean;
}

export type NormKind = 'rms' | 'layer';

export interface RopeSpec {
  theta: number;
  /** Rotated dims (head_dim × partial_rotary_factor), rotate_half layout. */
  rotaryDim: number;
  /** Phi-3 "longrope": per-frequency divisors and output scale, chosen by sequence length. */
  longrope?: {
    shortFactor: number[];
    longFactor: number[];
    originalMaxPositions: number;
    shortMscale: number;
    longMscale: number;
  };
}

export interface AttentionSpec {
  heads: number;
  kvHeads: number;
  headDim: number;
  qkvBias: boolean;
  oBias: boolean;
  /** 'per-head': RMSNorm(head_dim) per head (Qwen3); 'full': RMSNorm over the projected width (OLMoE). */
  qkNorm: 'none' | 'per-head' | 'full';
  clipQkv: number | null;
}

/**
 * The tensor-name table of one architecture (HF checkpoint layout): the only place a name fragment is
 * spelled. Each adapter builds its table (adapter.ts `llamaNames` with the family's MoE parts); every
 * full tensor name the loader, the validator, the accounting and the exporter use is composed from it
 * by model/tensor-names.ts.
 */
export interface TensorNames {
  /** full name of the embedding matrix */
  embed: string;
  /** prefix of the final norm, e.g. `model.norm` */
  finalNorm: string;
  /** prefix of the output projection, e.g. `lm_head` */
  lmHead: string;
  /** prefix of decoder layer l, e.g. `model.layers.3`; every tensor of the layer starts with it */
  layer(l: number): string;
  /** norm names inside a layer */
  inputNorm: string;
  postNorm: string;
  /** attention module name inside a layer, and its projections / q-k norms */
  attention: string;
  attnProj: { q: string; k: string; v: string; o: string };
  qkNorm: { q: string; k: string };
  /** Prefix of the MoE block, e.g. `model.layers.3.block_sparse_moe`. */
  moe(l: number): string;
  /** Prefix of a dense MLP layer, e.g. `model.layers.0.mlp`. */
  denseMlp(l: number): string;
  /** projections of a dense MLP and of the shared expert */
  mlpProj: { gate: string; up: string; down: string };
  /** module holding the routed experts inside the MoE block */
  experts: string;
  /** projections of a routed expert */
  expertProj: { gate: string; up: string; down: string };
  router: string;
  sharedExpert?: string;
  sharedExpertGate?: string;
}

export interface ModelSpec {
  architecture: string;
  modelType: string;
  hidden: number;
  layers: number;
  vocab: number;
  norm: { kind: NormKind; eps: number };
  rope: RopeSpec;
  attention: AttentionSpec;
  /** Sliding window per layer (null = full causal). */
  slidingWindow: (number | null)[];
  /** 'moe' or 'dense' per layer. */
  layerKinds: ('moe' | 'dense')[];
  intermediate: number;
  moeIntermediate: number;
  experts: number;
  routing: RoutingSpec;
  /** Shared (always-on) experts per MoE layer: Qwen2-MoE 1, DeepSeek n_shared_experts (fused into one MLP). */
  sharedExperts: number;
  /** Intermediate width of the (fused) shared expert MLP; 0 when none. */
  sharedIntermediate: number;
  sharedGate: boolean;
  tieEmbeddings: boolean;
  lmHeadBias: boolean;
  names: TensorNames;
}

// ---- observer hooks --------------------------------------------------------------------------

/**
 * Observer of one forward pass. Every method is optional; work needed only for a hook (expert
 * intermediates kept alive, router probabilities read back) is done only when that hook exists.
 * Tensors passed to a hook are owned by the executor and disposed right after the callback
 * returns (or its promise resolves): keep a tensor with `tf.keep`/`clone` or copy with `dataSync`.
 * Row indices refer to the flattened [B·T, h] hidden states of the current batch (row = b·T + t).
 */
export interface LayerObserver {
  onLayerInput?(e: { layer: number; hidden: Tensor2D; batch: number; seqLen: number }): void | Promise<void>;
  onAttentionOutput?(e: { layer: number; output: Tensor2D }): void | Promise<void>;
  /** Per token chunk: router logits/probabilities [n, N] and each token's chosen experts [n·k]. */
  onRouter?(e: RouterEvent): void | Promise<void>;
  /** Per token chunk and expert with at least one routed token. */
  onExpert?(e: ExpertEvent): void | Promise<void>;
  onSharedExpert?(e: {
    layer: number;
    rowStart: number;
    input: Tensor2D;
    output: Tensor2D;
  }): void | Promise<void>;
  onLayerOutput?(e: { layer: number; hidden: Tensor2D }): void | Promise<void>;
}

export interface RouterEvent {
  layer: number;
  /** [n, h] the chunk's MoE input (post-attention-norm hidden states), what every expert of it sees */
  input: Tensor2D;
  /** First row of this chunk in the batch's flattened hidden states. */
  rowStart: number;
  logits: Tensor2D;
  probs: Tensor2D;
  topK: number;
  /** [n·k] expert indices, token-major. */
  experts: Int32Array;
  /** [n·k] routing weights matching `experts`. */
  weights: Float32Array;
}

export interface ExpertEvent {
  layer: number;
  expert: number;
  /** Absolute rows (in the batch's flattened hidden states) routed to this expert. */
  rows: Int32Array;
  /** Routing weight of each row. */
  weights: Float32Array;
  /** [m, h] expert inputs (post-attention-norm hidden states). */
  input: Tensor2D;
  /** [m, I] silu(gate(x)) · up(x). */
  intermediate: Tensor2D;
  /** [m, h] expert output before the routing weight is applied. */
  output: Tensor2D;
  /**
   * Set when the sweep asked for every expert on every token (statistics for experts no calibration
   * token reaches): `rows` are all tokens, `weights` the router probability of this expert, and the
   * layer's output still uses the real top-k routing.
   */
  allTokens?: boolean;
}
