// How run fields read in tables: durations, timestamps and headline metrics with their units.
import type { RunSummary } from '@contract';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function runSeconds(run: Pick<RunSummary, 'seconds' | 'startedAt' | 'finishedAt'>): number | null {
  if (run.seconds !== null) return run.seconds;
  if (!run.startedAt || !run.finishedAt) return null;
  return (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
}

export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

function formatBytes(b: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function significant(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString();
}

const KNOWN: Record<string, (v: number) => string> = {
  ppl: (v) => `ppl ${significant(v)}`,
  tokensPerSecond: (v) => `${significant(v)} tok/s`,
  peakRssBytes: (v) => `peak ${formatBytes(v)}`,
  targetRatio: (v) => `target ${(v * 100).toFixed(0)}%`,
  achievedRatio: (v) => `kept ${(v * 100).toFixed(1)}%`,
  gflops: (v) => `${significant(v)} GFLOP/s`,
};

function formatMetric(name: string, v: number): string {
  const known = KNOWN[name];
  if (known) return known(v);
  const gemm = /^gflops@(\d+)$/.exec(name);
  if (gemm) return `${significant(v)} GFLOP/s @${gemm[1]}`;
  return `${name} ${significant(v)}`;
}

/** Headline metrics as short labelled strings, known ones first. */
export function formatHeadline(headline: Record<string, number>, max = 4): string[] {
  const keys = Object.keys(headline).sort((a, b) => Number(!(a in KNOWN)) - Number(!(b in KNOWN)));
  return keys.slice(0, max).map((k) => formatMetric(k, headline[k]!));
}
