// Distributing global counts over layers (METHODS §2.3). Pure integer rules shared by the planner,
// the pruning/merging declarations and their implementations, so plan and run agree exactly.

/**
 * Experts removed per layer for a global count (strategy `fixed`): floor(P/L) each and one extra for
 * the first P mod L layers (layer order). A layer never keeps fewer than `minKeep[l]` experts; what
 * a full layer cannot take goes to the next layers that can, in order. Returns null when the total
 * exceeds what all layers together can give up.
 */
export function distributeRemovals(
  total: number,
  counts: readonly number[],
  minKeep: readonly number[],
): number[] | null {
  const L = counts.length;
  if (L === 0) return total === 0 ? [] : null;
  const room = counts.map((c, i) => Math.max(0, c - minKeep[i]!));
  if (total > room.reduce((a, b) => a + b, 0)) return null;
  const q = Math.floor(total / L);
  const r = total % L;
  const out = counts.map((_, i) => Math.min(room[i]!, q + (i < r ? 1 : 0)));
  let left = total - out.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0 && i < L; i++) {
    const add = Math.min(left, room[i]! - out[i]!);
    out[i]! += add;
    left -= add;
  }
  return out;
}

/**
 * Groups (experts kept after merging) per layer for a global group count: floor(G/L) each and one
 * extra for the LAST G mod L layers (§2.3: G=474, L=16 → 29 each, layers 6–15 get 30). Each layer
 * keeps between 1 and its current expert count; overflow moves to the neighbouring layers.
 */
export function distributeGroups(total: number, counts: readonly number[]): number[] | null {
  const L = counts.length;
  if (L === 0) return total === 0 ? [] : null;
  if (total < L || total > counts.reduce((a, b) => a + b, 0)) return null;
  const q = Math.floor(total / L);
  const r = total % L;
  const out = counts.map((c, i) => Math.max(1, Math.min(c, q + (i >= L - r ? 1 : 0))));
  let diff = total - out.reduce((a, b) => a + b, 0);
  for (let i = L - 1; diff !== 0 && i >= 0; i--) {
    const d = diff > 0 ? Math.min(diff, counts[i]! - out[i]!) : Math.max(diff, 1 - out[i]!);
    out[i]! += d;
    diff -= d;
  }
  return diff === 0 ? out : null;
}
