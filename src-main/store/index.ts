// The experiment store: one SQLite file, opened once per process, with small repositories on top.
// Never imports tfjs.
import {
  type Db,
  LATEST_SCHEMA_VERSION,
  type OpenOptions,
  openDatabase,
  schemaVersionOf,
} from './open-database';
import { datasetsRepo } from './repos/datasets';
import { modelsRepo } from './repos/models';
import { pipelinesRepo } from './repos/pipelines';
import { runsRepo } from './repos/runs';

export { defaultHome, resolveHome, STORE_FILE_NAME, storePathIn } from './paths';
export { DEFAULT_HEADLINE_METRICS } from './repos/runs';
export { StoreError } from './store-error';
export { LATEST_SCHEMA_VERSION };

export interface Store {
  readonly path: string;
  readonly db: Db;
  readonly models: ReturnType<typeof modelsRepo>;
  readonly datasets: ReturnType<typeof datasetsRepo>;
  readonly pipelines: ReturnType<typeof pipelinesRepo>;
  readonly runs: ReturnType<typeof runsRepo>;
  schemaVersion(): number;
  sqliteVersion(): string;
  close(): void;
}

export function openStore(file: string, opts: OpenOptions = {}): Store {
  const db = openDatabase(file, opts);
  return {
    path: file,
    db,
    models: modelsRepo(db),
    datasets: datasetsRepo(db),
    pipelines: pipelinesRepo(db),
    runs: runsRepo(db),
    schemaVersion: () => schemaVersionOf(db),
    sqliteVersion: () => (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
    close: () => {
      if (db.open) db.close();
    },
  };
}
