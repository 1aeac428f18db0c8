// The `count` layers (or blocks) with the highest similarity — the ones whose removal changes the
// hidden states least (METHODS §4.4, §4.5 discrete). Ties: the lower layer index first. Pure.
export function mostSimilar(similarity: ReadonlyMap<number, number>, count: number): number[] {
  return [...similarity]
    .sort(([la, a], [lb, b]) => b - a || la - lb)
    .slice(0, Math.max(0, count))
    .map(([l]) => l)
    .sort((a, b) => a - b);
}
