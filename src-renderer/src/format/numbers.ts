// Numbers as engineers read them: parameter counts (1.2M), bytes (3.4 GiB), ratios. Counts, bytes
// and percentages are the contract's formatters (one unit system with the CLI).
export { formatBytes, formatCount, formatPercent } from '@contract/units';

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}
