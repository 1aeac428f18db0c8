import type { PipelineRecord } from '../../contract/index';
import type { Db } from '../open-database';
import { fromJson, nowIso, toJson } from './json-column';

interface PipelineRow {
  id: number;
  name: string;
  config_json: string;
  created_at: string;
  updated_at: string;
}

const toRecord = (r: PipelineRow): PipelineRecord => ({
  id: r.id,
  name: r.name,
  config: fromJson<unknown>(r.config_json, null),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function pipelinesRepo(db: Db) {
  return {
    list(): PipelineRecord[] {
      return (db.prepare('SELECT * FROM pipelines ORDER BY name, id').all() as PipelineRow[]).map(toRecord);
    },
    get(id: number): PipelineRecord | null {
      const r = db.prepare('SELECT * FROM pipelines WHERE id = ?').get(id) as PipelineRow | undefined;
      return r ? toRecord(r) : null;
    },
    findByName(name: string): PipelineRecord | null {
      const r = db.prepare('SELECT * FROM pipelines WHERE name = ?').get(name) as PipelineRow | undefined;
      return r ? toRecord(r) : null;
    },
    create(name: string, config: unknown): PipelineRecord {
      const now = nowIso();
      const info = db
        .prepare('INSERT INTO pipelines (name, config_json, created_at, updated_at) VALUES (?, ?, ?, ?)')
        .run(name, toJson(config), now, now);
      return this.get(Number(info.lastInsertRowid))!;
    },
    update(id: number, name: string, config: unknown): PipelineRecord | null {
      const changed = db
        .prepare('UPDATE pipelines SET name = ?, config_json = ?, updated_at = ? WHERE id = ?')
        .run(name, toJson(config), nowIso(), id).changes;
      return changed ? this.get(id) : null;
    },
    remove(id: number): boolean {
      return db.prepare('DELETE FROM pipelines WHERE id = ?').run(id).changes > 0;
    },
  };
}
export type PipelinesRepo = ReturnType<typeof pipelinesRepo>;
