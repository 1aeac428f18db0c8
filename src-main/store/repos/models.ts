import type { ModelRecord } from '../../contract/index';
import type { Db } from '../open-database';
import { fromJson, nowIso, toJson } from './json-column';

interface ModelRow {
  id: number;
  name: string;
  path: string;
  architecture: string | null;
  builtin: number;
  summary_json: string | null;
  added_at: string;
}

const toRecord = (r: ModelRow): ModelRecord => ({
  id: r.id,
  name: r.name,
  path: r.path,
  architecture: r.architecture,
  builtin: r.builtin === 1,
  summary: fromJson<Record<string, unknown> | null>(r.summary_json, null),
  addedAt: r.added_at,
});

export interface NewModel {
  name: string;
  path: string;
  architecture?: string | null;
  builtin?: boolean;
  summary?: Record<string, unknown> | null;
}

export function modelsRepo(db: Db) {
  return {
    list(): ModelRecord[] {
      return (db.prepare('SELECT * FROM models ORDER BY name, id').all() as ModelRow[]).map(toRecord);
    },
    get(id: number): ModelRecord | null {
      const r = db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
      return r ? toRecord(r) : null;
    },
    findByPath(p: string): ModelRecord | null {
      const r = db.prepare('SELECT * FROM models WHERE path = ?').get(p) as ModelRow | undefined;
      return r ? toRecord(r) : null;
    },
    add(m: NewModel): ModelRecord {
      const info = db
        .prepare(
          'INSERT INTO models (name, path, architecture, builtin, summary_json, added_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          m.name,
          m.path,
          m.architecture ?? null,
          m.builtin ? 1 : 0,
          m.summary ? toJson(m.summary) : null,
          nowIso(),
        );
      return this.get(Number(info.lastInsertRowid))!;
    },
    setSummary(id: number, architecture: string | null, summary: Record<string, unknown> | null): void {
      db.prepare('UPDATE models SET architecture = ?, summary_json = ? WHERE id = ?').run(
        architecture,
        summary ? toJson(summary) : null,
        id,
      );
    },
    /** Insert, or mark the entry at the same path built-in and refresh its name and architecture. */
    upsertBuiltin(m: { name: string; path: string; architecture: string | null }): void {
      db.prepare(
        `INSERT INTO models (name, path, architecture, builtin, added_at) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (path) DO UPDATE SET name = excluded.name, architecture = excluded.architecture, builtin = 1`,
      ).run(m.name, m.path, m.architecture, nowIso());
    },
    remove(id: number): boolean {
      return db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0;
    },
  };
}
export type ModelsRepo = ReturnType<typeof modelsRepo>;
