// Linear CKA between the outputs of a layer's experts on the same calibration tokens (Kornblith et
// al. 2019): with X_i the [n, h] outputs of expert i on n tokens (every expert runs on every token,
// before the routing weight) and X̃ = X − column means, CKA(i, j) = ⟨K_i, K_j⟩_F / (‖K_i‖_F ‖K_j‖_F),
// K = X̃ X̃ᵀ. That is the cosine of the flattened centred Grams, so the merge step's block Gram
// (on the backend) computes every pair at once. An expert whose outputs are all equal has K = 0 and
// CKA 0 with everything (its diagonal included).
import { EngineError } from '../errors';
import { fromGram } from '../methods/merge/grouping';
import { blockGram } from '../methods/merge/similarity';
import type { ExpertEvent, LayerObserver } from '../model/types';
import { tf } from '../tensor/backend';
import { matMulT } from '../tensor/mat-mul-transposed';

/** Collects each expert's outputs on the first `maxTokens` calibration tokens of one layer. */
export class ExpertOutputCollector {
  private offset = 0;
  private seen = 0;
  readonly outputs: Float32Array[];

  constructor(
    readonly layer: number,
    readonly experts: number,
    readonly hidden: number,
    readonly maxTokens: number,
  ) {
    this.outputs = Array.from({ length: experts }, () => new Float32Array(maxTokens * hidden));
  }

  /** the first calibration token of the batch the next events belong to */
  startBatch(tokenOffset: number): void {
    this.offset = tokenOffset;
  }

  add(e: Pick<ExpertEvent, 'layer' | 'expert' | 'rows' | 'output' | 'allTokens'>): void {
    if (e.layer !== this.layer) return;
    if (!e.allTokens)
      throw new EngineError('output CKA needs every expert on every token (sweep with allExperts)', {
        field: 'allExperts',
      });
    const out = e.output.dataSync();
    const h = this.hidden;
    const dst = this.outputs[e.expert]!;
    for (let i = 0; i < e.rows.length; i++) {
      const t = this.offset + e.rows[i]!;
      if (t >= this.maxTokens) continue;
      dst.set(out.subarray(i * h, (i + 1) * h), t * h);
      if (e.expert === 0) this.seen = Math.max(this.seen, t + 1);
    }
  }

  /** tokens collected (every expert holds the same ones) */
  get tokens(): number {
    return this.seen;
  }

  observer(): LayerObserver {
    return { onExpert: (e) => this.add(e) };
  }
}

/** CKA matrix of n tokens' outputs per expert (`outputs[i]` row-major [≥n, h]); symmetric. */
export function ckaMatrix(outputs: readonly Float32Array[], n: number, h: number): number[][] {
  if (n < 2) throw new EngineError(`CKA needs at least 2 tokens, got ${n}`, { field: 'ckaTokens' });
  for (const [i, o] of outputs.entries()) {
    if (o.length < n * h)
      throw new EngineError(`expert ${i} holds ${o.length / h} token outputs, expected ${n}`, {
        field: 'outputs',
      });
    for (let k = 0; k < n * h; k++)
      if (!Number.isFinite(o[k]!))
        throw new EngineError(`expert ${i} output is ${o[k]} at token ${Math.floor(k / h)}`, {
          field: 'outputs',
        });
  }
  const centredGram = (i: number) =>
    tf.tidy(() => {
      const x = tf.tensor2d(outputs[i]!.subarray(0, n * h), [n, h]);
      const xc = tf.sub(x, tf.mean(x, 0, true));
      return tf.reshape(matMulT(xc, xc, false, true), [-1]) as tf.Tensor1D;
    });
  return fromGram(blockGram(outputs.length, centredGram), 'cosine');
}
