// How numbers read wherever the workbench prints them (CLI, UI, reports): one unit system.
// Bytes are always binary (B, KiB, MiB, GiB, TiB; never "MB"), parameter counts use K/M/B, ratios
// are percentages. No Node, Electron or zod imports: the renderer imports this file directly
// (`@contract/units`).

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

const missing = (v: number | null | undefined): v is null | undefined =>
  v === null || v === undefined || !Number.isFinite(v);

/** Bytes in binary units: `512 B`, `3.4 GiB`; `digits` decimals above bytes; "—" for no value. */
export function formatBytes(b: number | null | undefined, digits = 1): string {
  if (missing(b)) return '—';
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : digits)} ${BYTE_UNITS[i]}`;
}

/** Parameter (or token) counts: `1.23B`, `4.56M`, `12.3K`, `999`; "—" for no value. */
export function formatCount(n: number | null | undefined): string {
  if (missing(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}K`;
  return String(Math.round(n));
}

/** A 0..1 ratio as a percentage: `30.0%`; "—" for no value. */
export function formatPercent(v: number | null | undefined, digits = 1): string {
  return missing(v) ? '—' : `${(v * 100).toFixed(digits)}%`;
}

/** A plain number at readable precision: 3 significant digits, thousands grouped from 1000 up. */
export function formatSignificant(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString();
}
