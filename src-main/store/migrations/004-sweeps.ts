// Schema v4: sweeps and their points. A point is an ordinary run once it has one (`run_id`); its
// `hash` (the resolved config's) is unique within the sweep, so a result is recorded exactly once
// however many workers report it.
export const sweeps = `
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('planned', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  mode TEXT,
  -- the process coordinating the sweep now; a second process tells a live sweep from a dead one
  owner_pid INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  seconds REAL
);
CREATE TABLE sweep_points (
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  hash TEXT NOT NULL,
  label TEXT NOT NULL,
  ratio REAL NOT NULL,
  contributions_json TEXT NOT NULL,
  order_json TEXT NOT NULL,
  params_json TEXT NOT NULL DEFAULT '{}',
  config_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'refused')),
  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  -- set when the result is an earlier identical run, not one computed for this sweep
  reused INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT,
  error TEXT,
  seconds REAL,
  UNIQUE (sweep_id, hash),
  UNIQUE (sweep_id, idx)
);
CREATE INDEX sweep_points_by_hash ON sweep_points(hash, status);
CREATE INDEX sweep_points_by_run ON sweep_points(run_id);
`;
