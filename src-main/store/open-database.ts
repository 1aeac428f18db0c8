// Opens (creating if needed) the SQLite experiment store: checks the folder is writable, refuses a
// store written by a newer app without touching it, applies pending migrations, and marks runs
// whose owning process is gone as `interrupted`.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { formatBytes } from '../contract/units';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations/index';
import { type BindingChoice, chooseSqliteBinding, isAddonLoadFailure } from './native-binding';
import { StoreError, storeFailure } from './store-error';

export type Db = Database.Database;

export interface OpenOptions {
  /** Override the migration list (tests). */
  migrations?: readonly Migration[];
  /** This process's pid, recorded as the owner of runs it starts. */
  pid?: number;
  /** Which native addon to load (tests); default: chosen for this runtime (Node or Electron). */
  binding?: BindingChoice;
}

function ensureWritableFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new StoreError(`store folder '${dir}' is not writable (${code})`, {
      hint: 'pass --home DIR or set MOE_WORKBENCH_HOME to a writable folder',
      cause: e,
    });
  }
}

/**
 * SQLite's WAL index (-shm) is a memory-mapped file: growing it on a full disk raises SIGBUS, which
 * kills the process with no message. Below this much free space the store is not opened.
 */
export const MIN_FREE_BYTES = 8 * 2 ** 20;

function ensureFreeSpace(dir: string): void {
  let free: number;
  try {
    const s = fs.statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // no statfs: SQLite reports what it can
  }
  if (free < MIN_FREE_BYTES)
    throw new StoreError(`the disk holding the store folder '${dir}' is full (${formatBytes(free)} free)`, {
      hint: `free at least ${formatBytes(MIN_FREE_BYTES)} there, or pass --home DIR on another disk`,
    });
}

function schemaVersionOf(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, migrations: readonly Migration[], file: string): void {
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  const current = schemaVersionOf(db);
  if (current > latest) {
    throw new StoreError(
      `store '${file}' has schema version ${current}, newer than this app supports (${latest}); it was left untouched`,
      { hint: 'upgrade MoE Workbench, or use another --home' },
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs left queued/running by a process that no longer exists (crash, kill -9, power loss). */
function markOrphansInterrupted(db: Db, selfPid: number): number {
  const open = db.prepare(`SELECT id, owner_pid FROM runs WHERE status IN ('queued', 'running')`).all() as {
    id: number;
    owner_pid: number | null;
  }[];
  const orphaned = open.filter(
    (r) => r.owner_pid === null || r.owner_pid === selfPid || !pidAlive(r.owner_pid),
  );
  const mark = db.prepare(
    `UPDATE runs SET status = 'interrupted', finished_at = ?, error = COALESCE(error, 'the process running it ended before it finished') WHERE id = ?`,
  );
  const now = new Date().toISOString();
  db.transaction(() => {
    for (const r of orphaned) mark.run(now, r.id);
  })();
  return orphaned.length;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  ensureWritableFolder(path.dirname(file));
  ensureFreeSpace(path.dirname(file));
  const binding = opts.binding ?? chooseSqliteBinding();
  let db: Db;
  try {
    db = new Database(file, binding.nativeBinding ? { nativeBinding: binding.nativeBinding } : {});
  } catch (e) {
    if (isAddonLoadFailure(e)) {
      throw new StoreError(
        `better-sqlite3's native addon cannot be loaded by this runtime (${(e as Error).message.split('\n')[0]})`,
        {
          hint: binding.expected
            ? `run 'npm run rebuild:electron' to build ${binding.expected}`
            : `run 'npm rebuild better-sqlite3' for Node ${process.versions.node}`,
          cause: e,
        },
      );
    }
    throw new StoreError(`cannot open store '${file}': ${(e as Error).message}`, { cause: e });
  }
  try {
    // Version check comes before any pragma that writes (journal_mode), so a newer store is untouched.
    const migrations = opts.migrations ?? MIGRATIONS;
    const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
    const current = schemaVersionOf(db);
    if (current > latest) migrate(db, migrations, file);
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, file);
    markOrphansInterrupted(db, opts.pid ?? process.pid);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw storeFailure(e, file, 'open');
  }
}

export { LATEST_SCHEMA_VERSION, schemaVersionOf };
