// Runs and what they record: per-layer statistics, metrics and artifacts. A run's rows are written
// as they arrive, so a failed, cancelled or interrupted run keeps everything recorded before it ended.
import type {
  ArtifactRecord,
  LayerRecord,
  MetricRecord,
  RunDetail,
  RunStatus,
  RunSummary,
} from '../../contract/index';
import { metricSpec } from '../../contract/metrics';
import { runProtocols } from '../../contract/protocol';
import type { Db } from '../open-database';
import { fromJson, nowIso, toJson } from './json-column';

export interface NewMetric extends MetricRecord {
  /** shown in run lists; default: the contract's METRICS table says (false for other names) */
  headline?: boolean | undefined;
}

export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

interface RunRow {
  id: number;
  kind: string;
  status: RunStatus;
  model_id: number | null;
  model_name: string | null;
  pipeline_id: number | null;
  pipeline_name: string | null;
  config_json: string;
  seed: number | null;
  backend: string | null;
  app_version: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error: string | null;
  last_finished_layer: number | null;
}

export interface NewRun {
  kind: string;
  config: unknown;
  appVersion: string;
  modelId?: number | null;
  pipelineId?: number | null;
  seed?: number | null;
  backend?: string | null;
  ownerPid?: number;
}

export interface ListRunsFilter {
  status?: RunStatus | undefined;
  /** only runs of this job kind */
  kind?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/** A run with every metric it recorded (first value per name) and its config, for tables. */
export interface RunWithRecords {
  summary: RunSummary;
  metrics: Record<string, number>;
  config: unknown;
}

// A run started by reference (a CLI `--model` folder not in the store, a pipeline run without a
// saved pipeline) names its model and pipeline in its config: lists show those rather than nothing.
const CONFIG_FIELD = (f: string) =>
  `CASE WHEN json_valid(r.config_json) THEN COALESCE(json_extract(r.config_json, '$.${f}'), json_extract(r.config_json, '$.config.${f}')) END`;

const SELECT_RUN = `
  SELECT r.*, COALESCE(m.name, ${CONFIG_FIELD('model')}) AS model_name,
    COALESCE(p.name, ${CONFIG_FIELD('name')}) AS pipeline_name
  FROM runs r
  LEFT JOIN models m ON m.id = r.model_id
  LEFT JOIN pipelines p ON p.id = r.pipeline_id`;

function summaryOf(r: RunRow, headline: Record<string, number>): RunSummary {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    modelId: r.model_id,
    modelName: r.model_name,
    pipelineName: r.pipeline_name,
    seed: r.seed,
    backend: r.backend,
    appVersion: r.app_version,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    seconds: r.seconds,
    error: r.error,
    headline,
    protocols: runProtocols(r.kind, fromJson(r.config_json, null)),
  };
}

export function runsRepo(db: Db) {
  const headlineStmt = db.prepare(
    'SELECT name, value FROM metrics WHERE run_id = ? AND headline = 1 ORDER BY id',
  );
  const headlineOf = (runId: number): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const m of headlineStmt.all(runId) as { name: string; value: number }[]) {
      // first recorded value wins (a run may evaluate ppl on several datasets; the first is the primary)
      if (!(m.name in out)) out[m.name] = m.value;
    }
    return out;
  };
  const getRow = (id: number) => db.prepare(`${SELECT_RUN} WHERE r.id = ?`).get(id) as RunRow | undefined;
  const listRows = (filter: ListRunsFilter): RunRow[] => {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) {
      where.push('r.status = ?');
      args.push(filter.status);
    }
    if (filter.kind) {
      where.push('r.kind = ?');
      args.push(filter.kind);
    }
    return db
      .prepare(
        `${SELECT_RUN} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ? OFFSET ?`,
      )
      .all(...args, filter.limit ?? -1, filter.offset ?? 0) as RunRow[];
  };

  return {
    create(run: NewRun): RunSummary {
      const info = db
        .prepare(
          `INSERT INTO runs (kind, status, model_id, pipeline_id, config_json, seed, backend, app_version, created_at, owner_pid)
           VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.kind,
          run.modelId ?? null,
          run.pipelineId ?? null,
          toJson(run.config ?? {}),
          run.seed ?? null,
          run.backend ?? null,
          run.appVersion,
          nowIso(),
          run.ownerPid ?? process.pid,
        );
      return this.get(Number(info.lastInsertRowid))!;
    },

    get(id: number): RunSummary | null {
      const r = getRow(id);
      return r ? summaryOf(r, headlineOf(r.id)) : null;
    },

    list(filter: ListRunsFilter = {}): RunSummary[] {
      return listRows(filter).map((r) => summaryOf(r, headlineOf(r.id)));
    },

    /**
     * Runs as list and comparison views need them, in three queries whatever the number of runs:
     * summaries, every metric, and the config each ran with.
     */
    listWithRecords(filter: ListRunsFilter = {}): RunWithRecords[] {
      const rows = listRows(filter);
      if (rows.length === 0) return [];
      const ids = new Set(rows.map((r) => r.id));
      const metrics = new Map<number, Record<string, number>>();
      for (const m of db
        .prepare('SELECT run_id, name, value FROM metrics WHERE run_id >= ? ORDER BY id')
        .iterate(Math.min(...ids)) as Iterable<{ run_id: number; name: string; value: number }>) {
        if (!ids.has(m.run_id)) continue;
        const rec = metrics.get(m.run_id) ?? {};
        if (!(m.name in rec)) rec[m.name] = m.value;
        metrics.set(m.run_id, rec);
      }
      return rows.map((r) => ({
        summary: summaryOf(r, headlineOf(r.id)),
        metrics: metrics.get(r.id) ?? {},
        config: fromJson(r.config_json, null),
      }));
    },

    detail(id: number): RunDetail | null {
      const r = getRow(id);
      if (!r) return null;
      const metrics = (
        db
          .prepare('SELECT name, value, dataset, unit, headline FROM metrics WHERE run_id = ? ORDER BY id')
          .all(id) as (Omit<MetricRecord, 'headline'> & { headline: number })[]
      ).map((m): MetricRecord => ({ ...m, headline: m.headline === 1 }));
      const layers = (
        db
          .prepare(
            'SELECT step, layer, stats_json, seconds FROM run_layers WHERE run_id = ? ORDER BY step, layer',
          )
          .all(id) as {
          step: number;
          layer: number;
          stats_json: string;
          seconds: number | null;
        }[]
      ).map(
        (l): LayerRecord => ({
          step: l.step,
          layer: l.layer,
          stats: fromJson(l.stats_json, {}),
          seconds: l.seconds,
        }),
      );
      const artifacts = db
        .prepare('SELECT id, path, kind, bytes, sha256 FROM artifacts WHERE run_id = ? ORDER BY id')
        .all(id) as ArtifactRecord[];
      return {
        ...summaryOf(r, headlineOf(id)),
        config: fromJson(r.config_json, null),
        metrics,
        layers,
        artifacts,
      };
    },

    lastFinishedLayer(id: number): number | null {
      return getRow(id)?.last_finished_layer ?? null;
    },

    /** Runs of `kind` that ended without success (newest first): the ones a start may continue. */
    unfinishedOf(kind: string): number[] {
      return (
        db
          .prepare(
            `SELECT id FROM runs WHERE kind = ? AND status IN ('failed', 'cancelled', 'interrupted') ORDER BY id DESC`,
          )
          .all(kind) as { id: number }[]
      ).map((r) => r.id);
    },

    /**
     * Put a finished-but-unsuccessful run back in the queue to resume it; keeps its layer records.
     * Its metrics and artifacts go: jobs record those once their work is whole, and the resumed
     * attempt records them again (no duplicates from an attempt that died while recording them).
     */
    requeue(id: number, ownerPid: number = process.pid): boolean {
      return db.transaction(() => {
        const changed =
          db
            .prepare(
              `UPDATE runs SET status = 'queued', finished_at = NULL, error = NULL, owner_pid = ?
               WHERE id = ? AND status IN ('failed', 'cancelled', 'interrupted')`,
            )
            .run(ownerPid, id).changes > 0;
        if (changed) {
          db.prepare('DELETE FROM metrics WHERE run_id = ?').run(id);
          db.prepare('DELETE FROM artifacts WHERE run_id = ?').run(id);
        }
        return changed;
      })();
    },

    configOf(id: number): unknown {
      const r = getRow(id);
      return r ? fromJson(r.config_json, null) : null;
    },

    markRunning(id: number): void {
      db.prepare(
        `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ? AND status = 'queued'`,
      ).run(nowIso(), id);
    },

    setBackend(id: number, backend: string): void {
      db.prepare('UPDATE runs SET backend = ? WHERE id = ?').run(backend, id);
    },

    /** Final status; `seconds` is the wall time since started_at (null if it never started). */
    finish(id: number, status: RunStatus, error: string | null = null): void {
      const now = new Date();
      const row = getRow(id);
      if (!row || FINAL_STATUSES.includes(row.status)) return;
      const seconds = row.started_at ? (now.getTime() - Date.parse(row.started_at)) / 1000 : null;
      db.prepare('UPDATE runs SET status = ?, finished_at = ?, seconds = ?, error = ? WHERE id = ?').run(
        status,
        now.toISOString(),
        seconds,
        error,
        id,
      );
    },

    recordLayer(
      id: number,
      layer: number,
      stats: Record<string, unknown>,
      seconds: number | null,
      step = 0,
    ): void {
      db.transaction(() => {
        db.prepare(
          `INSERT INTO run_layers (run_id, step, layer, stats_json, seconds) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id, step, layer) DO UPDATE SET stats_json = excluded.stats_json, seconds = excluded.seconds`,
        ).run(id, step, layer, toJson(stats), seconds);
        db.prepare(
          'UPDATE runs SET last_finished_layer = MAX(COALESCE(last_finished_layer, -1), ?) WHERE id = ?',
        ).run(layer, id);
      })();
    },

    /** The latest progress of a running run, for views in other processes (externalLive). */
    setProgress(id: number, progress: Record<string, unknown>): void {
      db.prepare('UPDATE runs SET progress_json = ? WHERE id = ?').run(toJson(progress), id);
    },

    /** Queued and running runs owned by another process, with their latest progress. */
    externalLive(
      selfPid: number = process.pid,
    ): { id: number; status: RunStatus; progress: Record<string, unknown> | null }[] {
      return (
        db
          .prepare(
            `SELECT id, status, progress_json FROM runs
             WHERE status IN ('queued', 'running') AND owner_pid IS NOT NULL AND owner_pid != ?`,
          )
          .all(selfPid) as { id: number; status: RunStatus; progress_json: string | null }[]
      ).map((r) => ({ id: r.id, status: r.status, progress: fromJson(r.progress_json, null) }));
    },

    recordMetric(id: number, m: NewMetric): void {
      // a name from the contract's vocabulary always carries the vocabulary's unit
      const spec = metricSpec(m.name);
      const headline = m.headline ?? spec?.headline ?? false;
      db.prepare(
        'INSERT INTO metrics (run_id, name, value, dataset, unit, headline) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(id, m.name, m.value, m.dataset, spec ? spec.unit : m.unit, headline ? 1 : 0);
    },

    recordArtifact(id: number, a: Omit<ArtifactRecord, 'id'>): number {
      const info = db
        .prepare('INSERT INTO artifacts (run_id, path, kind, bytes, sha256) VALUES (?, ?, ?, ?, ?)')
        .run(id, a.path, a.kind, a.bytes, a.sha256);
      return Number(info.lastInsertRowid);
    },

    remove(id: number): boolean {
      return db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
    },
  };
}
export type RunsRepo = ReturnType<typeof runsRepo>;
