// The runner's layer overrides with finished layers on disk: a Map to its readers (the executor,
// the steps, export, evaluation), but a layer persisted in the work folder is read back on `get`
// and only `residentLimit` such layers stay in memory (least recently used evicted and freed).
// So a run's memory holds the layer being processed and the one just propagated, whatever the
// depth, instead of every compressed layer it produced.
//
// Contract for readers: an override returned by `get` stays valid until `residentLimit` other
// persisted layers have been read (pin a layer to hold it longer: eviction frees neither a pinned
// layer nor the one `get` just returned, so what `get` returns is never already freed).
// Readers that keep every layer at once (the KV-cache decoder) need `residentLimit = Infinity`,
// which the run result starts with; export instead reads persisted layers straight from their
// files (`persistedAt`) and needs none resident. Tensor-free overrides (dropped sub-layer or
// block) and layers not yet persisted are always in memory. A layer file's checksum is verified on
// its first read only (this process wrote it, or read it once already).
import type { ViewManifest } from '../model/layer-manifest';
import { disposeMoeView } from '../model/layer-weights';
import type { LoadedModel } from '../model/model';
import type { LayerOverride } from '../model/types';
import { layerFile, loadPersistedLayer, type PersistedLayer, readJson, verifyLayerFile } from './work-files';

type Slot =
  /** not persisted (yet), or tensor-free */
  | { where: 'memory'; override: LayerOverride }
  /** `<workDir>/steps/<step>/layer-l`, read on demand */
  | { where: 'disk'; step: number };

/** What `take` hands back for `restore`: the slot and its in-memory copy (still live), if any. */
export interface HeldSlot {
  slot: Slot;
  loaded: LayerOverride | undefined;
}

export class LayerOverrideStore extends Map<number, LayerOverride> {
  readonly #model: LoadedModel;
  readonly #workDir: string;
  readonly #slots = new Map<number, Slot>();
  /** in-memory copies of disk slots, least recently used first */
  readonly #loaded = new Map<number, LayerOverride>();
  readonly #pinned = new Set<number>();
  /** `${step}:${layer}` files whose checksum this store has seen match */
  readonly #verified = new Set<string>();
  #limit: number;
  /** persisted layers read back from disk so far (a reader's cost, and what tests pin) */
  reads = 0;

  constructor(model: LoadedModel, workDir: string, residentLimit: number) {
    super();
    this.#model = model;
    this.#workDir = workDir;
    this.#limit = residentLimit;
  }

  get residentLimit(): number {
    return this.#limit;
  }

  /** Change how many persisted layers stay in memory (evicting now if fewer). */
  set residentLimit(n: number) {
    this.#limit = n;
    this.#evict();
  }

  override get size(): number {
    return this.#slots.size;
  }

  override has(l: number): boolean {
    return this.#slots.has(l);
  }

  override get(l: number): LayerOverride | undefined {
    const slot = this.#slots.get(l);
    if (!slot) return undefined;
    if (slot.where === 'memory') return slot.override;
    let ov = this.#loaded.get(l);
    if (ov) {
      // most recently used goes last
      this.#loaded.delete(l);
      this.#loaded.set(l, ov);
      return ov;
    }
    const key = `${slot.step}:${l}`;
    ov = loadPersistedLayer(this.#model, this.#workDir, slot.step, l, !this.#verified.has(key)).override;
    this.#verified.add(key);
    this.reads++;
    this.#loaded.set(l, ov);
    this.#evict();
    return ov;
  }

  /** The layer's override if it is in memory; never reads the disk. */
  cached(l: number): LayerOverride | undefined {
    const slot = this.#slots.get(l);
    if (!slot) return undefined;
    return slot.where === 'memory' ? slot.override : this.#loaded.get(l);
  }

  /**
   * Where persisted layer l lives: its work file (the view's tensors under the workbench names) and
   * the manifest describing them, checksum checked as `get` would; null when the layer is only in
   * memory (not persisted yet, or tensor-free). Reads no tensor and loads nothing: a reader taking
   * the tensors from the file one at a time holds none of the layer (export).
   */
  persistedAt(l: number): { file: string; manifest: ViewManifest } | null {
    const slot = this.#slots.get(l);
    if (slot?.where !== 'disk') return null;
    const meta = readJson<PersistedLayer>(layerFile(this.#workDir, slot.step, l, 'json'));
    const file = layerFile(this.#workDir, slot.step, l, 'safetensors');
    const key = `${slot.step}:${l}`;
    if (!this.#verified.has(key)) {
      verifyLayerFile(file, meta);
      this.#verified.add(key);
    }
    return { file, manifest: meta.manifest! };
  }

  /** A Map's set: the override is held in memory until `persisted`; a replaced copy is the caller's to free. */
  override set(l: number, override: LayerOverride): this {
    // the constructor of Map calls set before our fields exist
    if (!this.#slots) return this;
    this.#loaded.delete(l);
    this.#slots.set(l, { where: 'memory', override });
    return this;
  }

  /** The override set for `l` is now in `<workDir>/steps/<step>/`: it may be evicted and read back from there. */
  persisted(l: number, step: number): void {
    const slot = this.#slots.get(l);
    if (slot?.where !== 'memory' || !slot.override.moe) return;
    this.#slots.set(l, { where: 'disk', step });
    this.#verified.add(`${step}:${l}`);
    this.#loaded.set(l, slot.override);
    this.#evict();
  }

  /** Keep layer l in memory until `unpin` (a step is reading its view). */
  pin(l: number): void {
    this.#pinned.add(l);
  }

  unpin(l: number): void {
    this.#pinned.delete(l);
    this.#evict();
  }

  /** Remove layer l without freeing anything; `restore` puts it back exactly (same position). */
  take(l: number): HeldSlot | undefined {
    const slot = this.#slots.get(l);
    if (!slot) return undefined;
    const loaded = this.#loaded.get(l);
    this.#loaded.delete(l);
    return { slot, loaded };
  }

  restore(l: number, held: HeldSlot): void {
    this.#slots.set(l, held.slot);
    if (held.loaded) {
      this.#loaded.set(l, held.loaded);
      this.#evict();
    }
  }

  override delete(l: number): boolean {
    this.#loaded.delete(l);
    this.#pinned.delete(l);
    return this.#slots.delete(l);
  }

  override clear(): void {
    this.#slots.clear();
    this.#loaded.clear();
    this.#pinned.clear();
  }

  override keys(): MapIterator<number> {
    return this.#slots.keys();
  }

  /** Reads every layer (each one valid as `get` says: all of them with residentLimit = Infinity). */
  override *values(): MapIterator<LayerOverride> {
    for (const l of [...this.#slots.keys()]) yield this.get(l)!;
  }

  override *entries(): MapIterator<[number, LayerOverride]> {
    for (const l of [...this.#slots.keys()]) yield [l, this.get(l)!];
  }

  override [Symbol.iterator](): MapIterator<[number, LayerOverride]> {
    return this.entries();
  }

  override forEach(
    cb: (v: LayerOverride, k: number, m: Map<number, LayerOverride>) => void,
    self?: unknown,
  ): void {
    for (const [k, v] of this.entries()) cb.call(self, v, k, this);
  }

  /** Free the in-memory copies of persisted layers (they are read back on the next `get`). */
  release(): void {
    for (const [l, ov] of [...this.#loaded]) {
      if (this.#pinned.has(l)) continue;
      this.#loaded.delete(l);
      if (ov.moe) disposeMoeView(ov.moe);
    }
  }

  /** Free everything this store holds and empty it. */
  dispose(): void {
    this.#pinned.clear();
    this.release();
    for (const s of this.#slots.values())
      if (s.where === 'memory' && s.override.moe) disposeMoeView(s.override.moe);
    this.clear();
  }

  /** Number of persisted layers currently in memory (pinned ones included). */
  get residentCount(): number {
    return this.#loaded.size;
  }

  /**
   * Free least recently used copies beyond the limit, never a pinned one nor the most recent (what
   * `get` just returned): at most max(limit, pinned + 1) persisted layers stay in memory.
   */
  #evict(): void {
    const order = [...this.#loaded.keys()];
    let n = order.length;
    for (const l of order.slice(0, -1)) {
      if (n <= this.#limit) break;
      if (this.#pinned.has(l)) continue;
      const ov = this.#loaded.get(l)!;
      this.#loaded.delete(l);
      n--;
      if (ov.moe) disposeMoeView(ov.moe);
    }
  }
}
