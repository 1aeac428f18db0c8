// Sweeps and their points. A point's result is an ordinary run (`run_id`); recording it is one
// transaction guarded by the point still lacking one, so a result reported twice (a retried job, a
// second worker) is stored once. Imported runs (computed by a remote worker) are written whole here.
import type { LayerRecord, MetricRecord } from '../../contract/index';
import { metricSpec } from '../../contract/metrics';
import type { Db } from '../open-database';
import { fromJson, nowIso, toJson } from './json-column';

export type SweepStatus = 'planned' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type PointStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'refused';

export interface SweepRecord {
  id: number;
  name: string;
  spec: unknown;
  status: SweepStatus;
  mode: string | null;
  ownerPid: number | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
}

export interface PointRecord {
  id: number;
  sweepId: number;
  index: number;
  hash: string;
  label: string;
  ratio: number;
  contributions: Record<string, number>;
  order: string[];
  params: Record<string, unknown>;
  config: unknown;
  status: PointStatus;
  runId: number | null;
  reused: boolean;
  attempts: number;
  worker: string | null;
  error: string | null;
  seconds: number | null;
}

export interface NewPoint {
  index: number;
  hash: string;
  label: string;
  ratio: number;
  contributions: Record<string, number>;
  order: string[];
  params: Record<string, unknown>;
  config: unknown;
}

/** A run computed elsewhere (a remote worker's store), as it is imported. */
export interface RunBundle {
  kind: string;
  config: unknown;
  modelId: number | null;
  backend: string | null;
  appVersion: string;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  metrics: MetricRecord[];
  layers: LayerRecord[];
}

interface SweepRow {
  id: number;
  name: string;
  spec_json: string;
  status: SweepStatus;
  mode: string | null;
  owner_pid: number | null;
  cancel_requested: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
}

interface PointRow {
  id: number;
  sweep_id: number;
  idx: number;
  hash: string;
  label: string;
  ratio: number;
  contributions_json: string;
  order_json: string;
  params_json: string;
  config_json: string;
  status: PointStatus;
  run_id: number | null;
  reused: number;
  attempts: number;
  worker: string | null;
  error: string | null;
  seconds: number | null;
}

const sweepOf = (r: SweepRow): SweepRecord => ({
  id: r.id,
  name: r.name,
  spec: fromJson(r.spec_json, null),
  status: r.status,
  mode: r.mode,
  ownerPid: r.owner_pid,
  cancelRequested: r.cancel_requested === 1,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  seconds: r.seconds,
});

const pointOf = (r: PointRow): PointRecord => ({
  id: r.id,
  sweepId: r.sweep_id,
  index: r.idx,
  hash: r.hash,
  label: r.label,
  ratio: r.ratio,
  contributions: fromJson(r.contributions_json, {}),
  order: fromJson(r.order_json, []),
  params: fromJson(r.params_json, {}),
  config: fromJson(r.config_json, null),
  status: r.status,
  runId: r.run_id,
  reused: r.reused === 1,
  attempts: r.attempts,
  worker: r.worker,
  error: r.error,
  seconds: r.seconds,
});

export function sweepsRepo(db: Db) {
  const getRow = (id: number) =>
    db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined;
  return {
    create(name: string, spec: unknown, points: readonly NewPoint[]): SweepRecord {
      return db.transaction(() => {
        const info = db
          .prepare(`INSERT INTO sweeps (name, spec_json, status, created_at) VALUES (?, ?, 'planned', ?)`)
          .run(name, toJson(spec), nowIso());
        const id = Number(info.lastInsertRowid);
        const ins = db.prepare(
          `INSERT INTO sweep_points (sweep_id, idx, hash, label, ratio, contributions_json, order_json, params_json, config_json, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
        );
        for (const p of points)
          ins.run(
            id,
            p.index,
            p.hash,
            p.label,
            p.ratio,
            toJson(p.contributions),
            toJson(p.order),
            toJson(p.params),
            toJson(p.config),
          );
        return sweepOf(getRow(id)!);
      })();
    },

    get(id: number): SweepRecord | null {
      const r = getRow(id);
      return r ? sweepOf(r) : null;
    },

    list(): SweepRecord[] {
      return (db.prepare('SELECT * FROM sweeps ORDER BY id DESC').all() as SweepRow[]).map(sweepOf);
    },

    points(sweepId: number): PointRecord[] {
      return (
        db.prepare('SELECT * FROM sweep_points WHERE sweep_id = ? ORDER BY idx').all(sweepId) as PointRow[]
      ).map(pointOf);
    },

    point(sweepId: number, hash: string): PointRecord | null {
      const r = db.prepare('SELECT * FROM sweep_points WHERE sweep_id = ? AND hash = ?').get(sweepId, hash) as
        | PointRow
        | undefined;
      return r ? pointOf(r) : null;
    },

    /** A succeeded run with this config hash from any sweep, to reuse instead of recomputing. */
    succeededRunOf(hash: string): number | null {
      const r = db
        .prepare(
          `SELECT p.run_id FROM sweep_points p JOIN runs r ON r.id = p.run_id
           WHERE p.hash = ? AND p.status = 'succeeded' AND r.status = 'succeeded' ORDER BY p.id LIMIT 1`,
        )
        .get(hash) as { run_id: number } | undefined;
      return r?.run_id ?? null;
    },

    /** Start (or continue) coordinating: running, owned by this process, cancel flag cleared. */
    start(id: number, mode: string, ownerPid: number = process.pid): void {
      db.prepare(
        `UPDATE sweeps SET status = 'running', mode = ?, owner_pid = ?, cancel_requested = 0,
         started_at = COALESCE(started_at, ?), finished_at = NULL WHERE id = ?`,
      ).run(mode, ownerPid, nowIso(), id);
    },

    requestCancel(id: number): boolean {
      return (
        db
          .prepare(`UPDATE sweeps SET cancel_requested = 1 WHERE id = ? AND status IN ('planned', 'running')`)
          .run(id).changes > 0
      );
    },

    finish(id: number, status: SweepStatus): void {
      const row = getRow(id);
      if (!row) return;
      const seconds = row.started_at ? (Date.now() - Date.parse(row.started_at)) / 1000 : null;
      db.prepare(
        'UPDATE sweeps SET status = ?, finished_at = ?, seconds = ?, owner_pid = NULL WHERE id = ?',
      ).run(status, nowIso(), seconds, id);
    },

    /** Points a (re)started sweep still has to compute: everything not succeeded or refused. */
    openPoints(sweepId: number): PointRecord[] {
      return (
        db
          .prepare(
            `SELECT * FROM sweep_points WHERE sweep_id = ? AND status NOT IN ('succeeded', 'refused') ORDER BY idx`,
          )
          .all(sweepId) as PointRow[]
      ).map(pointOf);
    },

    markRunning(sweepId: number, hash: string, worker: string | null): void {
      db.prepare(
        `UPDATE sweep_points SET status = 'running', attempts = attempts + 1, worker = ?, error = NULL
         WHERE sweep_id = ? AND hash = ? AND run_id IS NULL`,
      ).run(worker, sweepId, hash);
    },

    /** Settle a point without a result (failed, cancelled, refused by its plan). */
    settle(
      sweepId: number,
      hash: string,
      status: Exclude<PointStatus, 'succeeded' | 'running'>,
      error: string | null,
    ): void {
      db.prepare(
        `UPDATE sweep_points SET status = ?, error = ? WHERE sweep_id = ? AND hash = ? AND run_id IS NULL`,
      ).run(status, error, sweepId, hash);
    },

    /**
     * The point's result is run `runId` (computed here, or reused). False when the point already has
     * one (the report is a duplicate): nothing changes.
     */
    link(
      sweepId: number,
      hash: string,
      runId: number,
      o: { reused?: boolean; worker?: string | null; seconds?: number | null } = {},
    ): boolean {
      return (
        db
          .prepare(
            `UPDATE sweep_points SET status = 'succeeded', run_id = ?, reused = ?, worker = COALESCE(?, worker), seconds = ?, error = NULL
             WHERE sweep_id = ? AND hash = ? AND run_id IS NULL`,
          )
          .run(runId, o.reused ? 1 : 0, o.worker ?? null, o.seconds ?? null, sweepId, hash).changes > 0
      );
    },

    /**
     * Store a run computed elsewhere and link it to its point, in one transaction: exactly once.
     * Returns the new run id, or null when the point already had its result.
     */
    importRun(sweepId: number, hash: string, b: RunBundle, worker: string | null): number | null {
      return db.transaction(() => {
        const p = db
          .prepare('SELECT run_id FROM sweep_points WHERE sweep_id = ? AND hash = ?')
          .get(sweepId, hash) as { run_id: number | null } | undefined;
        if (!p || p.run_id !== null) return null;
        const info = db
          .prepare(
            `INSERT INTO runs (kind, status, model_id, config_json, backend, app_version, created_at, started_at, finished_at, seconds)
             VALUES (?, 'succeeded', ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            b.kind,
            b.modelId,
            toJson(b.config),
            b.backend,
            b.appVersion,
            nowIso(),
            b.startedAt,
            b.finishedAt,
            b.seconds,
          );
        const runId = Number(info.lastInsertRowid);
        const layer = db.prepare(
          'INSERT INTO run_layers (run_id, step, layer, stats_json, seconds) VALUES (?, ?, ?, ?, ?)',
        );
        let last = -1;
        for (const l of b.layers) {
          layer.run(runId, l.step ?? 0, l.layer, toJson(l.stats), l.seconds);
          last = Math.max(last, l.layer);
        }
        if (last >= 0) db.prepare('UPDATE runs SET last_finished_layer = ? WHERE id = ?').run(last, runId);
        const metric = db.prepare(
          'INSERT INTO metrics (run_id, name, value, dataset, unit, headline) VALUES (?, ?, ?, ?, ?, ?)',
        );
        for (const m of b.metrics) {
          const spec = metricSpec(m.name);
          metric.run(runId, m.name, m.value, m.dataset, spec ? spec.unit : m.unit, m.headline ? 1 : 0);
        }
        db.prepare(
          `UPDATE sweep_points SET status = 'succeeded', run_id = ?, worker = ?, seconds = ?, error = NULL WHERE sweep_id = ? AND hash = ?`,
        ).run(runId, worker, b.seconds, sweepId, hash);
        return runId;
      })();
    },

    remove(id: number): boolean {
      return db.prepare('DELETE FROM sweeps WHERE id = ?').run(id).changes > 0;
    },
  };
}

export type SweepsRepo = ReturnType<typeof sweepsRepo>;
