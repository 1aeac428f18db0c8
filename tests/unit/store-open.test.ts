import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultHome,
  LATEST_SCHEMA_VERSION,
  openStore,
  resolveHome,
  StoreError,
} from '../../src-main/store/index';
import { MIGRATIONS } from '../../src-main/store/migrations/index';
import { openDatabase } from '../../src-main/store/open-database';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-open-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
/** pid of a process that has certainly exited */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('opening the store', () => {
  it('creates every table, sets WAL and foreign keys, and records the schema version', () => {
    const s = openStore(path.join(dir, 'a.sqlite'));
    expect(s.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = (
      s.db.prepare(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`).all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    expect(tables).toEqual([
      'artifacts',
      'datasets',
      'metrics',
      'models',
      'pipelines',
      'run_layers',
      'runs',
      'sweep_points',
      'sweeps',
    ]);
    s.close();
  });

  it('applies only pending migrations, in order, on reopen', () => {
    const file = path.join(dir, 'm.sqlite');
    openStore(file).close();
    const next = LATEST_SCHEMA_VERSION + 1;
    const v2 = [
      ...MIGRATIONS,
      { version: next, name: 'notes', sql: 'ALTER TABLE runs ADD COLUMN notes TEXT;' },
    ];
    const s = openStore(file, { migrations: v2 });
    expect(s.schemaVersion()).toBe(next);
    const cols = (s.db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).map((c) => c.name);
    expect(cols).toContain('notes');
    s.close();
    // reopening must not re-run the last migration (ALTER TABLE would fail on a duplicate column)
    const again = openStore(file, { migrations: v2 });
    expect(again.schemaVersion()).toBe(next);
    again.close();
  });

  it('rolls back a failing migration and leaves the previous version', () => {
    const file = path.join(dir, 'bad.sqlite');
    openStore(file).close();
    const broken = [
      ...MIGRATIONS,
      {
        version: LATEST_SCHEMA_VERSION + 1,
        name: 'broken',
        sql: 'CREATE TABLE x (a INT); SELECT * FROM no_such_table;',
      },
    ];
    expect(() => openStore(file, { migrations: broken })).toThrow(StoreError);
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'x'`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a store from a newer schema and leaves the file untouched', () => {
    const file = path.join(dir, 'newer.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE future (x INT); INSERT INTO future VALUES (42);');
    db.pragma('user_version = 99');
    db.close();
    const before = sha(file);
    expect(() => openStore(file)).toThrow(
      new RegExp(`schema version 99, newer than this app supports \\(${LATEST_SCHEMA_VERSION}\\)`),
    );
    expect(sha(file)).toBe(before);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(check.prepare('SELECT x FROM future').get()).toEqual({ x: 42 });
    check.close();
  });

  it('upgrades a v1 store: metrics gain the headline flag, v1 headlines keep showing', () => {
    const file = path.join(dir, 'v1.sqlite');
    // a v1 store as v1 wrote it (the repositories only speak the latest schema)
    const v1 = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version === 1) });
    expect(v1.pragma('user_version', { simple: true })).toBe(1);
    const runId = Number(
      v1
        .prepare(
          `INSERT INTO runs (kind, status, config_json, app_version, created_at, finished_at)
           VALUES ('eval', 'succeeded', '{}', '0.0.1', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')`,
        )
        .run().lastInsertRowid,
    );
    const insert = v1.prepare(
      'INSERT INTO metrics (run_id, name, value, dataset, unit) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run(runId, 'ppl', 7.25, 'wikitext2', null);
    insert.run(runId, 'gflops@64', 3, null, 'GFLOP/s');
    insert.run(runId, 'ppl', 9, 'c4', null);
    v1.prepare('INSERT INTO run_layers (run_id, layer, stats_json, seconds) VALUES (?, 3, ?, 1.5)').run(
      runId,
      '{"rank":8}',
    );
    v1.close();
    const run = { id: runId };

    const s = openStore(file);
    expect(s.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    expect(s.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // v3: layer records are keyed by (step, layer); old records become step 0
    expect(s.runs.detail(run.id)!.layers).toEqual([{ step: 0, layer: 3, stats: { rank: 8 }, seconds: 1.5 }]);
    expect(s.db.pragma('foreign_key_check')).toEqual([]);
    expect(s.runs.get(run.id)!.headline).toEqual({ ppl: 7.25 });
    expect(s.runs.detail(run.id)!.metrics.map((m) => [m.name, m.headline])).toEqual([
      ['ppl', true],
      ['gflops@64', false],
      ['ppl', true],
    ]);
    s.runs.recordMetric(run.id, { name: 'gflops@128', value: 5, dataset: null, unit: null, headline: true });
    expect(s.runs.get(run.id)!.headline).toEqual({ ppl: 7.25, 'gflops@128': 5 });
    expect(s.runs.get(run.id)!.status).toBe('succeeded');
    s.close();
  });

  it('says clearly when the folder cannot be written', () => {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, 'not a folder');
    const file = path.join(blocker, 'sub', 'workbench.sqlite');
    expect(() => openStore(file)).toThrow(StoreError);
    expect(() => openStore(file)).toThrow(/store folder '.*a-file\/sub' is not writable \(ENOTDIR\)/);
  });

  it('refuses a file that is not a database without overwriting it', () => {
    const file = path.join(dir, 'junk.sqlite');
    fs.writeFileSync(file, 'x'.repeat(4096));
    expect(() => openStore(file)).toThrow(/cannot open store .*junk\.sqlite/);
    expect(fs.readFileSync(file, 'utf8')).toBe('x'.repeat(4096));
  });

  it('marks runs of dead processes interrupted on open, and leaves live ones alone', () => {
    const file = path.join(dir, 'i.sqlite');
    const s = openStore(file);
    const dead = s.runs.create({ kind: 'k', config: {}, appVersion: '1', ownerPid: deadPid() });
    s.runs.markRunning(dead.id);
    const queued = s.runs.create({ kind: 'k', config: {}, appVersion: '1', ownerPid: deadPid() });
    const live = s.runs.create({ kind: 'k', config: {}, appVersion: '1', ownerPid: process.ppid });
    s.runs.markRunning(live.id);
    const done = s.runs.create({ kind: 'k', config: {}, appVersion: '1', ownerPid: deadPid() });
    s.runs.finish(done.id, 'succeeded');
    s.close();
    const t = openStore(file);
    expect(t.runs.get(dead.id)!.status).toBe('interrupted');
    expect(t.runs.get(dead.id)!.error).toMatch(/ended before it finished/);
    expect(t.runs.get(queued.id)!.status).toBe('interrupted');
    expect(t.runs.get(live.id)!.status).toBe('running');
    expect(t.runs.get(done.id)!.status).toBe('succeeded');
    t.close();
  });
});

describe('store location', () => {
  it('follows --home, then MOE_WORKBENCH_HOME, then the platform default', () => {
    const sys = { platform: 'linux' as const, env: { MOE_WORKBENCH_HOME: '/env/home' }, homedir: '/home/u' };
    expect(resolveHome('/flag/home', sys)).toBe('/flag/home');
    expect(resolveHome(undefined, sys)).toBe('/env/home');
    expect(resolveHome(undefined, { ...sys, env: {} })).toBe('/home/u/.local/share/moe-workbench');
    expect(defaultHome({ ...sys, env: { XDG_DATA_HOME: '/xdg' } })).toBe('/xdg/moe-workbench');
    expect(defaultHome({ platform: 'darwin', env: {}, homedir: '/Users/u' })).toBe(
      '/Users/u/Library/Application Support/MoE Workbench',
    );
    expect(
      defaultHome({
        platform: 'win32',
        env: { APPDATA: 'C:/Users/u/AppData/Roaming' },
        homedir: 'C:/Users/u',
      }),
    ).toBe(path.join('C:/Users/u/AppData/Roaming', 'MoE Workbench'));
  });
});
