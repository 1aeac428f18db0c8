// KV cache for incremental decoding: per decoder layer and sequence, the rotated keys (stored
// transposed, [KV, D, T], the layout the score matmul reads) and the values [KV, T, D] of every
// position seen so far. Keys are cached after RoPE, as HF's DynamicCache does, so a cached key
// keeps the rotation of its own position; all positions are kept and the sliding-window mask (not
// eviction) hides the old ones, which gives the same scores as a full forward pass.
import { tf } from '../../tensor/backend';

export class LayerKv {
  /** positions already cached (equal for every sequence of the batch) */
  past = 0;
  keys: tf.Tensor3D[] = [];
  values: tf.Tensor3D[] = [];

  /**
   * Append sequence b's new keys [KV, D, n] and values [KV, n, D] (consumed); returns the cached
   * keys and values including them (owned by the cache). `past` advances once the last sequence
   * of the batch has appended.
   */
  append(b: number, kT: tf.Tensor3D, v: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    const oldK = this.keys[b];
    const oldV = this.values[b];
    if ((oldK === undefined) !== (this.past === 0))
      throw new RangeError(`KV cache: sequence ${b} has no cached keys after ${this.past} positions`);
    const k = oldK ? (tf.concat([oldK, kT], 2) as tf.Tensor3D) : kT;
    const vv = oldV ? (tf.concat([oldV, v], 1) as tf.Tensor3D) : v;
    if (oldK) tf.dispose([oldK, oldV!, kT, v]);
    this.keys[b] = k;
    this.values[b] = vv;
    return [k, vv];
  }

  /** After every sequence of the batch appended n positions (attention() calls it). */
  advance(n: number): void {
    this.past += n;
  }

  bytes(): number {
    let n = 0;
    for (const t of [...this.keys, ...this.values]) n += t.size * 4;
    return n;
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
    this.past = 0;
  }
}

/** One LayerKv per decoder layer. */
export class KvCache {
  readonly layers: LayerKv[];

  constructor(layers: number) {
    this.layers = Array.from({ length: layers }, () => new LayerKv());
  }

  /** Positions cached so far (the position of the next token). */
  get length(): number {
    return this.layers.reduce((m, l) => Math.max(m, l.past), 0);
  }

  bytes(): number {
    return this.layers.reduce((s, l) => s + l.bytes(), 0);
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
