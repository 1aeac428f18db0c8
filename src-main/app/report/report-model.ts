// What a report shows, computed once from stored runs and rendered by html.ts, markdown.ts and
// csv.ts: the runs, the config differences, every metric with its delta to the baseline run, the
// per-layer tables (scalar stats of the layer records, per pipeline step) and the analyses the
// runs hold (contract/analyses.ts: records parsed with the contract's schemas; absent = no section
// content). Pure data: no Node, no tfjs, so the renderer could use it too.
import {
  ANALYSIS_TITLES,
  type AnalysisKind,
  type AnalysisRecord,
  analysisOfKind,
  analysisRecords,
} from '../../contract/analyses';
import type { RunDetail } from '../../contract/index';
import { metricSpec } from '../../contract/metrics';

export interface ReportRun {
  id: number;
  kind: string;
  status: string;
  model: string | null;
  name: string | null;
  methods: string[];
  createdAt: string;
  seconds: number | null;
  backend: string | null;
}

export interface ConfigRow {
  /** dotted path into the run config (`config.steps.0.method`) */
  path: string;
  /** JSON text of the value per run; null where the run has no such field */
  values: (string | null)[];
  differs: boolean;
}

export interface MetricRow {
  name: string;
  dataset: string | null;
  label: string;
  unit: string | null;
  headline: boolean;
  values: (number | null)[];
  /** value − baseline value (null for the baseline itself or a missing value) */
  deltas: (number | null)[];
  /** value / baseline − 1 */
  relative: (number | null)[];
}

export interface LayerTable {
  runId: number;
  step: number;
  columns: string[];
  rows: { layer: number; values: (number | string | boolean | null)[] }[];
}

export interface AnalysisSection {
  runId: number;
  kind: AnalysisKind;
  title: string;
  records: AnalysisRecord[];
}

export interface ReportModel {
  title: string;
  generatedAt: string;
  runs: ReportRun[];
  /** index into runs of the run deltas are taken against */
  baseline: number;
  config: ConfigRow[];
  metrics: MetricRow[];
  layers: LayerTable[];
  analyses: AnalysisSection[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A compress run keeps its pipeline under `config`; other jobs store their params directly. */
function pipelineOf(config: unknown): Obj {
  if (!isObj(config)) return {};
  return 'steps' in config ? config : isObj(config.config) ? config.config : {};
}

/** Leaves of a JSON value as dotted paths (arrays by index). */
export function flattenJson(v: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v) && v.length > 0)
    v.forEach((x, i) => {
      flattenJson(x, prefix ? `${prefix}.${i}` : String(i), out);
    });
  else if (isObj(v) && Object.keys(v).length > 0)
    for (const [k, x] of Object.entries(v)) flattenJson(x, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix || '(value)', JSON.stringify(v) ?? 'null');
  return out;
}

/** The app's own fields in a stored config (roots it filled in) say nothing about the run. */
const NOISE = /^(modelDirs|dataDirs|baseDir)(\.|$)/;

function configRows(runs: readonly RunDetail[]): ConfigRow[] {
  const flat = runs.map((r) => flattenJson(r.config ?? {}));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].filter((p) => !NOISE.test(p)).sort();
  return paths.map((path) => {
    const values = flat.map((f) => f.get(path) ?? null);
    return { path, values, differs: new Set(values).size > 1 };
  });
}

function metricRows(runs: readonly RunDetail[], baseline: number): MetricRow[] {
  const keys = new Map<
    string,
    { name: string; dataset: string | null; unit: string | null; headline: boolean }
  >();
  for (const r of runs)
    for (const m of r.metrics) {
      const k = `${m.name}\u0000${m.dataset ?? ''}`;
      const had = keys.get(k);
      if (!had)
        keys.set(k, { name: m.name, dataset: m.dataset, unit: m.unit, headline: m.headline === true });
      else if (m.headline) had.headline = true;
    }
  return [...keys.values()].map(({ name, dataset, unit, headline }) => {
    const values = runs.map(
      (r) => r.metrics.find((m) => m.name === name && m.dataset === dataset)?.value ?? null,
    );
    const base = values[baseline] ?? null;
    const spec = metricSpec(name);
    return {
      name,
      dataset,
      label: spec?.label ?? name,
      unit: spec?.unit ?? unit,
      headline,
      values,
      deltas: values.map((v, i) => (i === baseline || v === null || base === null ? null : v - base)),
      relative: values.map((v, i) =>
        i === baseline || v === null || base === null || base === 0 ? null : v / base - 1,
      ),
    };
  });
}

const scalar = (v: unknown): v is number | string | boolean =>
  (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean';

function layerTables(run: RunDetail): LayerTable[] {
  const bySteps = new Map<number, RunDetail['layers']>();
  for (const l of run.layers) {
    const s = l.step ?? 0;
    bySteps.set(s, [...(bySteps.get(s) ?? []), l]);
  }
  return [...bySteps]
    .sort(([a], [b]) => a - b)
    .map(([step, recs]) => {
      const columns = [
        ...new Set(
          recs.flatMap((r) =>
            Object.entries(r.stats)
              .filter(([, v]) => scalar(v))
              .map(([k]) => k),
          ),
        ),
      ];
      if (recs.some((r) => r.seconds !== null)) columns.push('seconds');
      const rows = [...recs]
        .sort((a, b) => a.layer - b.layer)
        .map((r) => ({
          layer: r.layer,
          values: columns.map((c) => {
            const v = c === 'seconds' && !('seconds' in r.stats) ? r.seconds : r.stats[c];
            return scalar(v) ? v : null;
          }),
        }));
      return { runId: run.id, step, columns, rows };
    });
}

export function buildReport(
  runs: readonly RunDetail[],
  opts: { baselineId?: number; title?: string; now?: Date } = {},
): ReportModel {
  if (runs.length === 0) throw new RangeError('a report needs at least one run');
  const baseline = opts.baselineId === undefined ? 0 : runs.findIndex((r) => r.id === opts.baselineId);
  if (baseline < 0)
    throw new RangeError(
      `baseline run ${opts.baselineId} is not one of the report's runs (${runs.map((r) => r.id).join(', ')})`,
    );
  const analyses: AnalysisSection[] = [];
  const layers: LayerTable[] = [];
  for (const r of runs) {
    const kind = analysisOfKind(r.kind);
    const records = kind ? analysisRecords(kind, r.layers) : [];
    if (kind && records.length > 0)
      analyses.push({ runId: r.id, kind, title: ANALYSIS_TITLES[kind], records });
    else layers.push(...layerTables(r));
  }
  const reportRuns = runs.map((r): ReportRun => {
    const p = pipelineOf(r.config);
    const steps = Array.isArray(p.steps) ? p.steps : [];
    const cfg = isObj(r.config) ? r.config : {};
    return {
      id: r.id,
      kind: r.kind,
      status: r.status,
      model:
        r.modelName ??
        (typeof p.model === 'string' ? p.model : typeof cfg.model === 'string' ? cfg.model : null),
      name: r.pipelineName ?? (typeof p.name === 'string' ? p.name : null),
      methods: steps.map((s) => (isObj(s) && typeof s.method === 'string' ? s.method : '?')),
      createdAt: r.createdAt,
      seconds: r.seconds,
      backend: r.backend,
    };
  });
  return {
    title:
      opts.title ??
      (runs.length === 1
        ? `Run ${runs[0]!.id} (${runs[0]!.kind})`
        : `Comparison of runs ${runs.map((r) => r.id).join(', ')}`),
    generatedAt: (opts.now ?? new Date()).toISOString(),
    runs: reportRuns,
    baseline,
    config: configRows(runs),
    metrics: metricRows(runs, baseline),
    layers,
    analyses,
  };
}

/** "run 12 (compress svd-llm)" */
export function runLabel(r: ReportRun): string {
  const what = r.methods.length ? r.methods.join('+') : (r.name ?? r.model ?? '');
  return `run ${r.id} (${r.kind}${what ? ` ${what}` : ''})`;
}
