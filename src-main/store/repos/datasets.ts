import type { DatasetRecord } from '../../contract/index';
import type { Db } from '../open-database';
import { nowIso } from './json-column';

interface DatasetRow {
  id: number;
  name: string;
  path: string;
  format: DatasetRecord['format'];
  builtin: number;
  added_at: string;
}

const toRecord = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  path: r.path,
  format: r.format,
  builtin: r.builtin === 1,
  addedAt: r.added_at,
});

export function datasetsRepo(db: Db) {
  return {
    list(): DatasetRecord[] {
      return (db.prepare('SELECT * FROM datasets ORDER BY builtin DESC, name, id').all() as DatasetRow[]).map(
        toRecord,
      );
    },
    get(id: number): DatasetRecord | null {
      const r = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
      return r ? toRecord(r) : null;
    },
    add(d: {
      name: string;
      path: string;
      format: DatasetRecord['format'];
      builtin?: boolean;
    }): DatasetRecord {
      const info = db
        .prepare('INSERT INTO datasets (name, path, format, builtin, added_at) VALUES (?, ?, ?, ?, ?)')
        .run(d.name, d.path, d.format, d.builtin ? 1 : 0, nowIso());
      return this.get(Number(info.lastInsertRowid))!;
    },
    findByPath(p: string): DatasetRecord | null {
      const r = db.prepare('SELECT * FROM datasets WHERE path = ?').get(p) as DatasetRow | undefined;
      return r ? toRecord(r) : null;
    },
    /** Insert, or mark the entry at the same path built-in and refresh its name and format. */
    upsertBuiltin(d: { name: string; path: string; format: DatasetRecord['format'] }): void {
      db.prepare(
        `INSERT INTO datasets (name, path, format, builtin, added_at) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (path) DO UPDATE SET name = excluded.name, format = excluded.format, builtin = 1`,
      ).run(d.name, d.path, d.format, nowIso());
    },
    remove(id: number): boolean {
      return db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
    },
  };
}
export type DatasetsRepo = ReturnType<typeof datasetsRepo>;
