// Plain BPE encoding with merge ranks (same result as HF's BPE model with ignore_merges=false).

import type { BpeModel } from './bpe-trainer';
import { fromByteLevel, preTokenize } from './byte-level';

export class BpeEncoder {
  private readonly rank = new Map<string, number>();
  private readonly idOf: Map<string, number>;
  private readonly cache = new Map<string, number[]>();

  constructor(readonly model: BpeModel) {
    model.merges.forEach(([a, b], r) => {
      this.rank.set(`${a} ${b}`, r);
    });
    this.idOf = new Map(model.vocab.map((t, i) => [t, i]));
  }

  idOfToken(token: string): number {
    const id = this.idOf.get(token);
    if (id === undefined) throw new Error(`token '${token}' is not in the vocabulary`);
    return id;
  }

  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let parts = Array.from(word);
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.rank.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = this.model.merges[bestRank]!;
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(parts[i]!);
      }
      parts = next;
    }
    const ids = parts.map((p) => this.idOf.get(p)!);
    if (this.cache.size < 200_000) this.cache.set(word, ids);
    return ids;
  }

  /** Token ids of `text` without special tokens. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const w of preTokenize(text)) for (const id of this.encodeWord(w)) out.push(id);
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const special = new Set(this.model.specialTokens);
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const t = this.model.vocab[ids[i]!]!;
      if (!special.has(t)) s += t;
    }
    return fromByteLevel(s);
  }
}
