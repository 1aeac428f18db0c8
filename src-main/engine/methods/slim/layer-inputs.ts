// Calibration inputs of the matrices an S/Q step touches in one MoE layer (METHODS §4.1, §10.3): per
// routed expert, Σ x xᵀ (or its diagonal Σ x²) over only the tokens routed to it — its input for
// gate/up, its intermediate act(gate·x)⊙(up·x) for down; the shared expert's over every token; the
// router's over every token, as Σ_e of the experts' input statistics (each token reaches exactly
// top-k experts, so this is k·Σ_tokens x xᵀ: the scale changes neither a Wanda order nor a damped
// SparseGPT/GPTQ solve, whose damping is relative to mean diag H).
import type { LayerObserver, MoeLayerView, Tensor2D } from '../../model/types';
import { tf } from '../../tensor/backend';
import { matMulT } from '../../tensor/mat-mul-transposed';

export type InputKind = 'gram' | 'diag';

export interface MatrixInputs {
  dim: number;
  /** rows (tokens) seen */
  tokens: number;
  /** non-empty forward calls (batches) that reached the matrix */
  calls: number;
  /** Σ x xᵀ (dim×dim) for 'gram', Σ x² (dim) for 'diag'; f64 */
  sums: Float64Array;
}

export interface LayerInputs {
  kind: InputKind;
  experts: { tokens: number; input: MatrixInputs; inter: MatrixInputs }[];
  shared?: { input: MatrixInputs; inter: MatrixInputs };
  router?: MatrixInputs;
}

class Acc {
  readonly m: MatrixInputs;
  constructor(
    dim: number,
    private readonly kind: InputKind,
  ) {
    this.m = { dim, tokens: 0, calls: 0, sums: new Float64Array(kind === 'gram' ? dim * dim : dim) };
  }
  add(x: Tensor2D): void {
    const n = x.shape[0];
    if (n === 0) return;
    const t = tf.tidy(() => (this.kind === 'gram' ? matMulT(x, x, true, false) : tf.sum(tf.square(x), 0)));
    const d = t.dataSync();
    t.dispose();
    const s = this.m.sums;
    for (let i = 0; i < d.length; i++) s[i] += d[i]!;
    this.m.tokens += n;
    this.m.calls += 1;
  }
}

function sumOf(parts: readonly MatrixInputs[], dim: number, kind: InputKind): MatrixInputs {
  const out: MatrixInputs = {
    dim,
    tokens: 0,
    calls: 0,
    sums: new Float64Array(kind === 'gram' ? dim * dim : dim),
  };
  for (const p of parts) {
    for (let i = 0; i < p.sums.length; i++) out.sums[i] += p.sums[i]!;
    out.tokens += p.tokens;
    out.calls = Math.max(out.calls, p.calls);
  }
  return out;
}

/** The dense weights [out, in] of a shared-expert linear (the shared expert is never factored by S/Q). */
function denseW(L: MoeLayerView['experts'][number]['gate'], what: string): Tensor2D {
  if (L.kind === 'dense' || L.kind === 'quantized') return L.w;
  throw new Error(`${what} is ${L.kind}; slimming/quantization of the shared expert needs dense weights`);
}

export class LayerInputsCollector {
  private readonly experts: { input: Acc; inter: Acc }[];
  private readonly shared: { input: Acc; inter: Acc } | null;
  private readonly tokensSeen: Float64Array;

  constructor(
    private readonly view: MoeLayerView,
    private readonly kind: InputKind,
    private readonly o: { shared: boolean; router: boolean },
  ) {
    const h = view.router.shape[1];
    this.experts = view.experts.map((e) => {
      const I = e.down.kind === 'factored' || e.down.kind === 'delta' ? e.down.B.shape[1] : e.down.w.shape[1];
      return { input: new Acc(h, kind), inter: new Acc(I, kind) };
    });
    this.tokensSeen = new Float64Array(view.experts.length);
    this.shared =
      o.shared && view.shared
        ? {
            input: new Acc(h, kind),
            inter: new Acc(denseW(view.shared.down, 'the shared down projection').shape[1], kind),
          }
        : null;
  }

  observer(): LayerObserver {
    const layer = this.view.layer;
    const obs: LayerObserver = {
      onExpert: (e) => {
        if (e.layer !== layer || e.allTokens) return;
        const a = this.experts[e.expert]!;
        a.input.add(e.input);
        a.inter.add(e.intermediate);
        this.tokensSeen[e.expert] += e.rows.length;
      },
    };
    const sh = this.shared;
    const sv = this.view.shared;
    if (sh && sv) {
      const g = denseW(sv.gate, 'the shared gate projection');
      const u = denseW(sv.up, 'the shared up projection');
      obs.onSharedExpert = (e) => {
        if (e.layer !== layer) return;
        sh.input.add(e.input);
        const act = tf.tidy(() => {
          const gx = matMulT(e.input, g, false, true);
          return tf.mul(tf.mul(gx, tf.sigmoid(gx)), matMulT(e.input, u, false, true)) as Tensor2D;
        });
        sh.inter.add(act);
        act.dispose();
      };
    }
    return obs;
  }

  result(): LayerInputs {
    const out: LayerInputs = {
      kind: this.kind,
      experts: this.experts.map((a, e) => ({
        tokens: this.tokensSeen[e]!,
        input: a.input.m,
        inter: a.inter.m,
      })),
    };
    if (this.shared) out.shared = { input: this.shared.input.m, inter: this.shared.inter.m };
    if (this.o.router) {
      const h = this.view.router.shape[1];
      out.router = sumOf(
        out.experts.map((e) => e.input),
        h,
        this.kind,
      );
    }
    return out;
  }
}
