// Numbers as engineers read them: parameter counts (1.2M), bytes (3.4 GiB), ratios and deltas.

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}K`;
  return String(Math.round(n));
}

export function formatBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatPercent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)}%`;
}

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** Signed relative change vs a baseline: "+3.2%"; null baseline or zero → "—". */
export function formatDelta(v: number | null | undefined, base: number | null | undefined): string {
  if (
    v === null ||
    v === undefined ||
    base === null ||
    base === undefined ||
    !Number.isFinite(v) ||
    !Number.isFinite(base) ||
    base === 0
  )
    return '—';
  const d = (v - base) / Math.abs(base);
  return `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%`;
}
