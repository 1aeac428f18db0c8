// Schema v3: layer records keyed by (run, step, layer) — a pipeline has many steps, each may record
// every layer. Existing records become step 0. SQLite cannot alter a UNIQUE constraint, so the table
// is rebuilt.
export const stepLayers = `
CREATE TABLE run_layers_v3 (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL DEFAULT 0,
  layer INTEGER NOT NULL,
  stats_json TEXT NOT NULL,
  seconds REAL,
  UNIQUE (run_id, step, layer)
);
INSERT INTO run_layers_v3 (id, run_id, step, layer, stats_json, seconds)
  SELECT id, run_id, 0, layer, stats_json, seconds FROM run_layers;
DROP TABLE run_layers;
ALTER TABLE run_layers_v3 RENAME TO run_layers;
CREATE INDEX run_layers_by_run ON run_layers(run_id, step, layer);
`;
