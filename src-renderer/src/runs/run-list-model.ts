// Sorting and filtering the runs list (pure, so hundreds of runs re-sort without a round trip).
import type { RunRow } from '@contract';
import { runSeconds } from '../format/run-format';
import { type RunMetricId, runMetric } from './run-metrics';

export type RunSortKey = 'id' | 'status' | 'model' | 'pipeline' | 'duration' | RunMetricId;
export interface RunSort {
  key: RunSortKey;
  dir: 'asc' | 'desc';
}

export function runModel(r: RunRow): string {
  const m = r.modelName ?? r.configModel;
  return m ? (m.split(/[\\/]/).filter(Boolean).pop() ?? m) : '';
}

export function runPipelineSummary(r: RunRow): string {
  if (r.kind !== 'compress') return r.kind;
  const name = r.pipelineName ?? r.configName ?? '';
  return [name, r.methods.join(' → ')].filter(Boolean).join(' · ');
}

function sortValue(r: RunRow, key: RunSortKey): string | number | null {
  switch (key) {
    case 'id':
      return r.id;
    case 'status':
      return r.status;
    case 'model':
      return runModel(r).toLowerCase() || null;
    case 'pipeline':
      return runPipelineSummary(r).toLowerCase() || null;
    case 'duration':
      return runSeconds(r);
    default:
      return runMetric(r, key);
  }
}

/** Missing values sort last in both directions. */
export function sortRuns(runs: readonly RunRow[], sort: RunSort): RunRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...runs].sort((a, b) => {
    const va = sortValue(a, sort.key);
    const vb = sortValue(b, sort.key);
    if (va === null || vb === null) return va === vb ? b.id - a.id : va === null ? 1 : -1;
    const c =
      typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return c !== 0 ? sign * c : b.id - a.id;
  });
}

/** Case-insensitive match of every word against id, status, model, pipeline and kind. */
export function filterRuns(runs: readonly RunRow[], text: string, status: string): RunRow[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((r) => {
    if (status && r.status !== status) return false;
    if (words.length === 0) return true;
    const hay = `#${r.id} ${r.status} ${runModel(r)} ${runPipelineSummary(r)} ${r.kind}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}
