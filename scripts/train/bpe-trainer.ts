// Byte-level BPE training: word-frequency table + incremental pair counts + a lazy max-heap.
// Each merge touches only the words that contain the merged pair, so training on a few MB of text
// takes seconds instead of a rescan of the corpus per merge.
import { EngineError } from '../../src-main/engine/errors';
import { BYTE_TO_CHAR, preTokenize } from './byte-level';

export interface BpeModel {
  /** token strings by id: special tokens first, then the 256 byte symbols, then merge results. */
  vocab: string[];
  /** merges in priority order (rank 0 first). */
  merges: [string, string][];
  specialTokens: string[];
}

export interface BpeTrainOptions {
  vocabSize: number;
  specialTokens: string[];
  /** stop early when the best pair occurs fewer times than this. */
  minPairCount?: number;
}

const KEY = 1 << 16; // ids stay below 65536 (vocab sizes are checked)

/** Max-heap on (count desc, pair key asc): the key tie-break makes merge order fully deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.counts.length && this.before(l, m)) m = l;
        if (r < this.counts.length && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

export function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of preTokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

export function trainBpe(text: string, opts: BpeTrainOptions): BpeModel {
  const base = opts.specialTokens.length + 256;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < base || opts.vocabSize >= KEY) {
    throw new EngineError(`vocabSize must be an integer in [${base}, ${KEY - 1}], got ${opts.vocabSize}`, {
      field: 'vocabSize',
    });
  }
  const minPair = opts.minPairCount ?? 2;
  const vocab = [...opts.specialTokens, ...BYTE_TO_CHAR];
  const idOf = new Map(vocab.map((t, i) => [t, i]));
  const merges: [string, string][] = [];

  // Words sorted so that insertion order (and thus every later iteration) is independent of Map internals.
  const wordCounts = [...countWords(text)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words: number[][] = wordCounts.map(([w]) => Array.from(w, (ch) => idOf.get(ch)!));
  const freq = wordCounts.map(([, c]) => c);

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number): void => {
    const w = words[wi]!;
    for (let i = 0; i + 1 < w.length; i++) {
      const k = w[i]! * KEY + w[i + 1]!;
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[wi]!);
      if (sign > 0) {
        let s = pairWords.get(k);
        if (!s) {
          s = new Set();
          pairWords.set(k, s);
        }
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  while (vocab.length < opts.vocabSize && heap.size > 0) {
    const [c, k] = heap.pop();
    if (pairCount.get(k) !== c) continue; // stale heap entry
    if (c < minPair) break;
    const a = Math.floor(k / KEY);
    const b = k % KEY;
    const merged = vocab[a]! + vocab[b]!;
    let id = idOf.get(merged);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(merged);
      idOf.set(merged, id);
    }
    merges.push([vocab[a]!, vocab[b]!]);
    const touched = new Set<number>();
    for (const wi of pairWords.get(k) ?? []) {
      const w = words[wi]!;
      let has = false;
      for (let i = 0; i + 1 < w.length; i++) if (w[i] === a && w[i + 1] === b) has = true;
      if (!has) continue;
      const before = new Set<number>();
      for (let i = 0; i + 1 < w.length; i++) before.add(w[i]! * KEY + w[i + 1]!);
      addPairs(wi, -1);
      const out: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w[i]!);
      }
      words[wi] = out;
      addPairs(wi, 1);
      for (const p of before) touched.add(p);
      for (let i = 0; i + 1 < out.length; i++) touched.add(out[i]! * KEY + out[i + 1]!);
    }
    pairCount.delete(k);
    for (const p of touched) {
      const pc = pairCount.get(p);
      if (pc === undefined || p === k) continue;
      if (pc <= 0) pairCount.delete(p);
      else heap.push(pc, p);
    }
  }
  return { vocab, merges, specialTokens: [...opts.specialTokens] };
}
