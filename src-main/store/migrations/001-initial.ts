// Schema v1: the experiment store's tables. Timestamps are ISO-8601 UTC strings.
export const initial = `
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE,
  architecture TEXT,
  builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
  summary_json TEXT,
  added_at TEXT NOT NULL
);

CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL CHECK (format IN ('text', 'jsonl', 'parquet', 'builtin')),
  builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
  added_at TEXT NOT NULL
);

CREATE TABLE pipelines (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  config_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  pipeline_id INTEGER REFERENCES pipelines(id) ON DELETE SET NULL,
  config_json TEXT NOT NULL DEFAULT '{}',
  seed INTEGER,
  backend TEXT,
  app_version TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  seconds REAL,
  error TEXT,
  -- resume support: the last layer whose record was written, plus method-specific state
  last_finished_layer INTEGER,
  resume_json TEXT,
  -- the process that owns a queued/running run; lets a second process tell live runs from dead ones
  owner_pid INTEGER
);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_created ON runs(created_at);

CREATE TABLE run_layers (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL,
  stats_json TEXT NOT NULL,
  seconds REAL,
  UNIQUE (run_id, layer)
);

CREATE TABLE metrics (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  dataset TEXT,
  unit TEXT
);
CREATE INDEX metrics_by_run ON metrics(run_id);

CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts(run_id);
`;
