/** Remaining seconds assuming the rest goes at the average pace so far; null until there is a pace. */
export function estimateEta(elapsedSeconds: number, fraction: number): number | null {
  if (!(fraction > 0) || !Number.isFinite(elapsedSeconds)) return null;
  if (fraction >= 1) return 0;
  return (elapsedSeconds * (1 - fraction)) / fraction;
}
